/**
 * What the kernel says about a process we started (Linux /proc), for the few
 * tests that must look at the server from outside: CPU time (no spinning
 * after abrupt disconnects, REFERENCES §1 #5) and peak memory ([LIMIT-3]).
 */
import { readFileSync } from 'node:fs';

/** True when /proc/<pid>/stat can be read (Linux). */
export function hasProc(pid: number | undefined): pid is number {
  if (pid === undefined) return false;
  try {
    readFileSync(`/proc/${pid}/stat`, 'utf8');
    return true;
  } catch {
    return false;
  }
}

/** User plus system CPU time the process has used, in clock ticks (usually 1/100 s). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the full line, 12 and 13 here (0-based 11, 12).
  return Number(fields[11]) + Number(fields[12]);
}

/** Clock ticks per second for cpuTicks (USER_HZ; 100 on every Linux we run on). */
export const TICKS_PER_SECOND = 100;

/** A field of /proc/<pid>/status in kB, such as VmRSS or VmHWM (peak RSS). */
export function memoryKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]);
}
