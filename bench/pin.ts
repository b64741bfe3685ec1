/** CPU pinning for the benchmarks: the server on one core, load on the other. */
import { spawnSync } from 'node:child_process';

/** `taskset -c <cpu>` when taskset exists and works here, else undefined. */
export function pinning(): ((cpu: number) => string[]) | undefined {
  const probe = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  return probe.status === 0 ? (cpu) => ['taskset', '-c', String(cpu)] : undefined;
}

/** Moves this process (all its threads) to `cpu`, so that coordinating stays off the server's core. */
export function pinSelf(cpu: number): void {
  spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}
