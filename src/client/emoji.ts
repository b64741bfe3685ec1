/**
 * Emoji shortcodes (`:smile:`), for the markup renderer ([MARKUP-5],
 * [MARKUP-6]) and for tab-completing `:sho` to `:shortcode:`.
 *
 * Names are GitHub's gemoji names, plus the Slack spellings people type from
 * habit (`thinking_face`, `simple_smile`, `flag-fr`). Values are written as
 * `\u{…}` escapes because an emoji pasted into source can silently lose or
 * gain a variation selector or ZWJ in an editor; an escape cannot. Flags are
 * built from their two-letter region codes, which cannot be mistyped the way
 * a pair of regional-indicator escapes can.
 */

/** A shortcode name: 1–32 of `a-z 0-9 _ + -` ([MARKUP-5]). */
export const SHORTCODE_NAME = /^[a-z0-9_+-]{1,32}$/;
export const MAX_SHORTCODE_LENGTH = 32;

/** True when `char` may appear in a shortcode name. */
export function isShortcodeChar(char: string | undefined): boolean {
  return char !== undefined && /^[a-z0-9_+-]$/.test(char);
}

const ZWJ = '\u{200D}';
const VS16 = '\u{FE0F}';
const MALE = `${ZWJ}\u{2642}${VS16}`;
const FEMALE = `${ZWJ}\u{2640}${VS16}`;

/** The flag of a two-letter region code: its letters as regional indicators. */
function flag(region: string): string {
  return String.fromCodePoint(...[...region.toUpperCase()].map((letter) => 0x1f1e6 + letter.charCodeAt(0) - 0x41));
}

/** Each emoji once, with every name it goes by separated by spaces. */
const TABLE: ReadonlyArray<readonly [names: string, emoji: string]> = [
  // Faces
  ['grinning', '\u{1F600}'], ['smiley', '\u{1F603}'], ['smile', '\u{1F604}'], ['grin', '\u{1F601}'],
  ['laughing satisfied', '\u{1F606}'], ['sweat_smile', '\u{1F605}'], ['rofl rolling_on_the_floor_laughing', '\u{1F923}'],
  ['joy', '\u{1F602}'], ['slightly_smiling_face simple_smile', '\u{1F642}'], ['upside_down_face', '\u{1F643}'],
  ['wink', '\u{1F609}'], ['blush', '\u{1F60A}'], ['innocent', '\u{1F607}'], ['smiling_face_with_three_hearts', '\u{1F970}'],
  ['heart_eyes', '\u{1F60D}'], ['star_struck', '\u{1F929}'], ['kissing_heart', '\u{1F618}'], ['kissing', '\u{1F617}'],
  ['relaxed', `\u{263A}${VS16}`], ['yum', '\u{1F60B}'], ['stuck_out_tongue', '\u{1F61B}'],
  ['stuck_out_tongue_winking_eye', '\u{1F61C}'], ['zany_face', '\u{1F92A}'], ['stuck_out_tongue_closed_eyes', '\u{1F61D}'],
  ['money_mouth_face', '\u{1F911}'], ['hugs hugging_face', '\u{1F917}'], ['hand_over_mouth', '\u{1F92D}'],
  ['shushing_face', '\u{1F92B}'], ['thinking thinking_face', '\u{1F914}'], ['zipper_mouth_face', '\u{1F910}'],
  ['raised_eyebrow', '\u{1F928}'], ['neutral_face', '\u{1F610}'], ['expressionless', '\u{1F611}'], ['no_mouth', '\u{1F636}'],
  ['smirk', '\u{1F60F}'], ['unamused', '\u{1F612}'], ['roll_eyes face_with_rolling_eyes', '\u{1F644}'],
  ['grimacing', '\u{1F62C}'], ['lying_face', '\u{1F925}'], ['relieved', '\u{1F60C}'], ['pensive', '\u{1F614}'],
  ['sleepy', '\u{1F62A}'], ['drooling_face', '\u{1F924}'], ['sleeping', '\u{1F634}'], ['mask', '\u{1F637}'],
  ['face_with_thermometer', '\u{1F912}'], ['nauseated_face', '\u{1F922}'], ['vomiting_face', '\u{1F92E}'],
  ['sneezing_face', '\u{1F927}'], ['hot_face', '\u{1F975}'], ['cold_face', '\u{1F976}'], ['woozy_face', '\u{1F974}'],
  ['dizzy_face', '\u{1F635}'], ['exploding_head', '\u{1F92F}'], ['cowboy_hat_face', '\u{1F920}'],
  ['partying_face', '\u{1F973}'], ['sunglasses', '\u{1F60E}'], ['nerd_face', '\u{1F913}'], ['monocle_face', '\u{1F9D0}'],
  ['confused', '\u{1F615}'], ['worried', '\u{1F61F}'], ['slightly_frowning_face', '\u{1F641}'],
  ['frowning_face', `\u{2639}${VS16}`], ['open_mouth', '\u{1F62E}'], ['hushed', '\u{1F62F}'], ['astonished', '\u{1F632}'],
  ['flushed', '\u{1F633}'], ['pleading_face', '\u{1F97A}'], ['frowning', '\u{1F626}'], ['anguished', '\u{1F627}'],
  ['fearful', '\u{1F628}'], ['cold_sweat', '\u{1F630}'], ['disappointed_relieved', '\u{1F625}'], ['cry', '\u{1F622}'],
  ['sob', '\u{1F62D}'], ['scream', '\u{1F631}'], ['confounded', '\u{1F616}'], ['persevere', '\u{1F623}'],
  ['disappointed', '\u{1F61E}'], ['sweat', '\u{1F613}'], ['weary', '\u{1F629}'], ['tired_face', '\u{1F62B}'],
  ['yawning_face', '\u{1F971}'], ['triumph', '\u{1F624}'], ['rage pout', '\u{1F621}'], ['angry', '\u{1F620}'],
  ['cursing_face', '\u{1F92C}'], ['smiling_imp', '\u{1F608}'], ['imp', '\u{1F47F}'], ['skull', '\u{1F480}'],
  ['hankey poop shit', '\u{1F4A9}'], ['clown_face', '\u{1F921}'], ['ghost', '\u{1F47B}'], ['alien', '\u{1F47D}'],
  ['robot', '\u{1F916}'], ['see_no_evil', '\u{1F648}'], ['hear_no_evil', '\u{1F649}'], ['speak_no_evil', '\u{1F64A}'],

  // Hearts and marks
  ['heart', `\u{2764}${VS16}`], ['orange_heart', '\u{1F9E1}'], ['yellow_heart', '\u{1F49B}'], ['green_heart', '\u{1F49A}'],
  ['blue_heart', '\u{1F499}'], ['purple_heart', '\u{1F49C}'], ['black_heart', '\u{1F5A4}'], ['white_heart', '\u{1F90D}'],
  ['brown_heart', '\u{1F90E}'], ['broken_heart', '\u{1F494}'], ['two_hearts', '\u{1F495}'], ['sparkling_heart', '\u{1F496}'],
  ['heartbeat', '\u{1F493}'], ['heartpulse', '\u{1F497}'], ['revolving_hearts', '\u{1F49E}'], ['cupid', '\u{1F498}'],
  ['gift_heart', '\u{1F49D}'], ['heart_exclamation heavy_heart_exclamation', `\u{2763}${VS16}`], ['kiss', '\u{1F48B}'],
  ['100', '\u{1F4AF}'], ['anger', '\u{1F4A2}'], ['boom collision', '\u{1F4A5}'], ['dizzy', '\u{1F4AB}'],
  ['sweat_drops', '\u{1F4A6}'], ['dash', '\u{1F4A8}'], ['zzz', '\u{1F4A4}'], ['speech_balloon', '\u{1F4AC}'],
  ['thought_balloon', '\u{1F4AD}'],

  // Hands and body
  ['wave', '\u{1F44B}'], ['raised_back_of_hand', '\u{1F91A}'], ['raised_hand hand', '\u{270B}'],
  ['vulcan_salute', '\u{1F596}'], ['ok_hand', '\u{1F44C}'], ['pinching_hand', '\u{1F90F}'], ['v', `\u{270C}${VS16}`],
  ['crossed_fingers', '\u{1F91E}'], ['love_you_gesture', '\u{1F91F}'], ['metal the_horns', '\u{1F918}'],
  ['call_me_hand', '\u{1F919}'], ['point_left', '\u{1F448}'], ['point_right', '\u{1F449}'], ['point_up_2', '\u{1F446}'],
  ['point_down', '\u{1F447}'], ['point_up', `\u{261D}${VS16}`], ['middle_finger fu', '\u{1F595}'],
  ['+1 thumbsup', '\u{1F44D}'], ['-1 thumbsdown', '\u{1F44E}'], ['fist_raised fist', '\u{270A}'],
  ['fist_oncoming facepunch punch', '\u{1F44A}'], ['fist_left', '\u{1F91B}'], ['fist_right', '\u{1F91C}'],
  ['clap', '\u{1F44F}'], ['raised_hands', '\u{1F64C}'], ['open_hands', '\u{1F450}'], ['palms_up_together', '\u{1F932}'],
  ['handshake', '\u{1F91D}'], ['pray', '\u{1F64F}'], ['writing_hand', `\u{270D}${VS16}`], ['nail_care', '\u{1F485}'],
  ['selfie', '\u{1F933}'], ['muscle', '\u{1F4AA}'], ['eyes', '\u{1F440}'], ['eye', `\u{1F441}${VS16}`],
  ['brain', '\u{1F9E0}'], ['tongue', '\u{1F445}'], ['lips', '\u{1F444}'],

  // People
  ['baby', '\u{1F476}'], ['boy', '\u{1F466}'], ['girl', '\u{1F467}'], ['man', '\u{1F468}'], ['woman', '\u{1F469}'],
  ['older_man', '\u{1F474}'], ['older_woman', '\u{1F475}'],
  ['shrug', '\u{1F937}'], ['man_shrugging', `\u{1F937}${MALE}`], ['woman_shrugging', `\u{1F937}${FEMALE}`],
  ['facepalm', '\u{1F926}'], ['man_facepalming', `\u{1F926}${MALE}`], ['woman_facepalming', `\u{1F926}${FEMALE}`],
  ['bow', '\u{1F647}'], ['raising_hand', '\u{1F64B}'], ['tipping_hand_person information_desk_person', '\u{1F481}'],
  ['technologist', `\u{1F9D1}${ZWJ}\u{1F4BB}`], ['man_technologist', `\u{1F468}${ZWJ}\u{1F4BB}`],
  ['woman_technologist', `\u{1F469}${ZWJ}\u{1F4BB}`], ['family', '\u{1F46A}'],
  ['family_man_woman_girl man-woman-girl', `\u{1F468}${ZWJ}\u{1F469}${ZWJ}\u{1F467}`],
  ['couple_with_heart', '\u{1F491}'], ['dancer', '\u{1F483}'], ['man_dancing', '\u{1F57A}'],
  ['runner running', '\u{1F3C3}'], ['walking', '\u{1F6B6}'], ['ninja', '\u{1F977}'], ['superhero', '\u{1F9B8}'],
  ['mage', '\u{1F9D9}'], ['santa', '\u{1F385}'], ['zombie', '\u{1F9DF}'], ['detective', `\u{1F575}${VS16}`],
  ['police_officer cop', '\u{1F46E}'], ['construction_worker', '\u{1F477}'],

  // Animals and plants
  ['dog', '\u{1F436}'], ['cat', '\u{1F431}'], ['mouse', '\u{1F42D}'], ['hamster', '\u{1F439}'], ['rabbit', '\u{1F430}'],
  ['fox_face', '\u{1F98A}'], ['bear', '\u{1F43B}'], ['panda_face', '\u{1F43C}'], ['koala', '\u{1F428}'],
  ['tiger', '\u{1F42F}'], ['lion', '\u{1F981}'], ['cow', '\u{1F42E}'], ['pig', '\u{1F437}'], ['frog', '\u{1F438}'],
  ['monkey_face', '\u{1F435}'], ['monkey', '\u{1F412}'], ['chicken', '\u{1F414}'], ['penguin', '\u{1F427}'],
  ['bird', '\u{1F426}'], ['baby_chick', '\u{1F424}'], ['eagle', '\u{1F985}'], ['duck', '\u{1F986}'], ['owl', '\u{1F989}'],
  ['bat', '\u{1F987}'], ['wolf', '\u{1F43A}'], ['horse', '\u{1F434}'], ['unicorn', '\u{1F984}'],
  ['bee honeybee', '\u{1F41D}'], ['bug', '\u{1F41B}'], ['butterfly', '\u{1F98B}'], ['snail', '\u{1F40C}'],
  ['turtle', '\u{1F422}'], ['snake', '\u{1F40D}'], ['dragon', '\u{1F409}'], ['t-rex', '\u{1F996}'],
  ['sauropod', '\u{1F995}'], ['octopus', '\u{1F419}'], ['crab', '\u{1F980}'], ['tropical_fish', '\u{1F420}'],
  ['fish', '\u{1F41F}'], ['dolphin', '\u{1F42C}'], ['whale', '\u{1F433}'], ['shark', '\u{1F988}'],
  ['crocodile', '\u{1F40A}'], ['elephant', '\u{1F418}'], ['sloth', '\u{1F9A5}'], ['hedgehog', '\u{1F994}'],
  ['feet paw_prints', '\u{1F43E}'], ['cactus', '\u{1F335}'], ['christmas_tree', '\u{1F384}'],
  ['evergreen_tree', '\u{1F332}'], ['deciduous_tree', '\u{1F333}'], ['palm_tree', '\u{1F334}'], ['seedling', '\u{1F331}'],
  ['herb', '\u{1F33F}'], ['shamrock', `\u{2618}${VS16}`], ['four_leaf_clover', '\u{1F340}'], ['fallen_leaf', '\u{1F342}'],
  ['maple_leaf', '\u{1F341}'], ['mushroom', '\u{1F344}'], ['bouquet', '\u{1F490}'], ['rose', '\u{1F339}'],
  ['tulip', '\u{1F337}'], ['sunflower', '\u{1F33B}'], ['cherry_blossom', '\u{1F338}'], ['hibiscus', '\u{1F33A}'],

  // Sky and weather
  ['sun_with_face', '\u{1F31E}'], ['full_moon_with_face', '\u{1F31D}'], ['new_moon_with_face', '\u{1F31A}'],
  ['crescent_moon', '\u{1F319}'], ['earth_africa', '\u{1F30D}'], ['earth_americas', '\u{1F30E}'],
  ['earth_asia', '\u{1F30F}'], ['star', '\u{2B50}'], ['star2', '\u{1F31F}'], ['sparkles', '\u{2728}'], ['zap', '\u{26A1}'],
  ['fire', '\u{1F525}'], ['comet', `\u{2604}${VS16}`], ['sunny', `\u{2600}${VS16}`], ['partly_sunny', '\u{26C5}'],
  ['cloud', `\u{2601}${VS16}`], ['rainbow', '\u{1F308}'], ['umbrella', '\u{2614}'], ['snowflake', `\u{2744}${VS16}`],
  ['snowman', '\u{26C4}'], ['droplet', '\u{1F4A7}'], ['ocean', '\u{1F30A}'], ['tornado', `\u{1F32A}${VS16}`],
  ['cloud_with_rain', `\u{1F327}${VS16}`],

  // Food and drink
  ['apple', '\u{1F34E}'], ['green_apple', '\u{1F34F}'], ['pear', '\u{1F350}'], ['tangerine orange', '\u{1F34A}'],
  ['lemon', '\u{1F34B}'], ['banana', '\u{1F34C}'], ['watermelon', '\u{1F349}'], ['grapes', '\u{1F347}'],
  ['strawberry', '\u{1F353}'], ['cherries', '\u{1F352}'], ['peach', '\u{1F351}'], ['pineapple', '\u{1F34D}'],
  ['coconut', '\u{1F965}'], ['kiwi_fruit', '\u{1F95D}'], ['avocado', '\u{1F951}'], ['eggplant', '\u{1F346}'],
  ['tomato', '\u{1F345}'], ['hot_pepper', `\u{1F336}${VS16}`], ['corn', '\u{1F33D}'], ['carrot', '\u{1F955}'],
  ['potato', '\u{1F954}'], ['bread', '\u{1F35E}'], ['croissant', '\u{1F950}'], ['cheese', '\u{1F9C0}'], ['egg', '\u{1F95A}'],
  ['fried_egg', '\u{1F373}'], ['bacon', '\u{1F953}'], ['pancakes', '\u{1F95E}'], ['hamburger', '\u{1F354}'],
  ['fries', '\u{1F35F}'], ['pizza', '\u{1F355}'], ['hotdog', '\u{1F32D}'], ['sandwich', '\u{1F96A}'], ['taco', '\u{1F32E}'],
  ['burrito', '\u{1F32F}'], ['spaghetti', '\u{1F35D}'], ['ramen', '\u{1F35C}'], ['sushi', '\u{1F363}'],
  ['bento', '\u{1F371}'], ['curry', '\u{1F35B}'], ['rice', '\u{1F35A}'], ['popcorn', '\u{1F37F}'], ['doughnut', '\u{1F369}'],
  ['cookie', '\u{1F36A}'], ['cake', '\u{1F370}'], ['birthday', '\u{1F382}'], ['cupcake', '\u{1F9C1}'],
  ['ice_cream', '\u{1F368}'], ['icecream', '\u{1F366}'], ['chocolate_bar', '\u{1F36B}'], ['candy', '\u{1F36C}'],
  ['lollipop', '\u{1F36D}'], ['honey_pot', '\u{1F36F}'], ['coffee', '\u{2615}'], ['tea', '\u{1F375}'], ['beer', '\u{1F37A}'],
  ['beers', '\u{1F37B}'], ['wine_glass', '\u{1F377}'], ['cocktail', '\u{1F378}'], ['tropical_drink', '\u{1F379}'],
  ['champagne', '\u{1F37E}'], ['clinking_glasses', '\u{1F942}'], ['tumbler_glass', '\u{1F943}'],
  ['cup_with_straw', '\u{1F964}'], ['milk_glass', '\u{1F95B}'],

  // Activities and objects
  ['tada', '\u{1F389}'], ['confetti_ball', '\u{1F38A}'], ['balloon', '\u{1F388}'], ['gift', '\u{1F381}'],
  ['trophy', '\u{1F3C6}'], ['medal_sports', '\u{1F3C5}'], ['1st_place_medal', '\u{1F947}'], ['2nd_place_medal', '\u{1F948}'],
  ['3rd_place_medal', '\u{1F949}'], ['soccer', '\u{26BD}'], ['basketball', '\u{1F3C0}'], ['football', '\u{1F3C8}'],
  ['baseball', '\u{26BE}'], ['tennis', '\u{1F3BE}'], ['video_game', '\u{1F3AE}'], ['game_die', '\u{1F3B2}'],
  ['dart', '\u{1F3AF}'], ['jigsaw', '\u{1F9E9}'], ['chess_pawn', `\u{265F}${VS16}`], ['art', '\u{1F3A8}'],
  ['musical_note', '\u{1F3B5}'], ['notes', '\u{1F3B6}'], ['microphone', '\u{1F3A4}'], ['headphones', '\u{1F3A7}'],
  ['guitar', '\u{1F3B8}'], ['movie_camera', '\u{1F3A5}'], ['clapper', '\u{1F3AC}'], ['camera', '\u{1F4F7}'],
  ['tv', '\u{1F4FA}'], ['computer', '\u{1F4BB}'], ['keyboard', `\u{2328}${VS16}`],
  ['desktop_computer', `\u{1F5A5}${VS16}`], ['iphone', '\u{1F4F1}'], ['phone telephone', `\u{260E}${VS16}`],
  ['battery', '\u{1F50B}'], ['electric_plug', '\u{1F50C}'], ['bulb', '\u{1F4A1}'], ['flashlight', '\u{1F526}'],
  ['wrench', '\u{1F527}'], ['hammer', '\u{1F528}'], ['hammer_and_wrench', `\u{1F6E0}${VS16}`], ['gear', `\u{2699}${VS16}`],
  ['nut_and_bolt', '\u{1F529}'], ['link', '\u{1F517}'], ['lock', '\u{1F512}'], ['unlock', '\u{1F513}'], ['key', '\u{1F511}'],
  ['bell', '\u{1F514}'], ['no_bell', '\u{1F515}'], ['mag', '\u{1F50D}'], ['bookmark', '\u{1F516}'], ['books', '\u{1F4DA}'],
  ['book open_book', '\u{1F4D6}'], ['memo pencil', '\u{1F4DD}'], ['pencil2', `\u{270F}${VS16}`], ['pushpin', '\u{1F4CC}'],
  ['paperclip', '\u{1F4CE}'], ['scissors', `\u{2702}${VS16}`], ['calendar', '\u{1F4C6}'], ['date', '\u{1F4C5}'],
  ['chart_with_upwards_trend', '\u{1F4C8}'], ['chart_with_downwards_trend', '\u{1F4C9}'], ['bar_chart', '\u{1F4CA}'],
  ['clipboard', '\u{1F4CB}'], ['file_folder', '\u{1F4C1}'], ['email e-mail', '\u{1F4E7}'], ['envelope', `\u{2709}${VS16}`],
  ['inbox_tray', '\u{1F4E5}'], ['outbox_tray', '\u{1F4E4}'], ['package', '\u{1F4E6}'], ['mailbox', '\u{1F4EB}'],
  ['moneybag', '\u{1F4B0}'], ['dollar', '\u{1F4B5}'], ['credit_card', '\u{1F4B3}'], ['gem', '\u{1F48E}'],
  ['hourglass', '\u{231B}'], ['hourglass_flowing_sand', '\u{23F3}'], ['watch', '\u{231A}'], ['alarm_clock', '\u{23F0}'],
  ['stopwatch', `\u{23F1}${VS16}`], ['bomb', '\u{1F4A3}'], ['pill', '\u{1F48A}'], ['syringe', '\u{1F489}'], ['dna', '\u{1F9EC}'],
  ['microscope', '\u{1F52C}'], ['telescope', '\u{1F52D}'], ['crystal_ball', '\u{1F52E}'], ['shield', `\u{1F6E1}${VS16}`],
  ['crown', '\u{1F451}'], ['eyeglasses', '\u{1F453}'], ['tophat', '\u{1F3A9}'], ['mortar_board', '\u{1F393}'],

  // Travel and places
  ['rocket', '\u{1F680}'], ['airplane', `\u{2708}${VS16}`], ['car red_car', '\u{1F697}'], ['taxi', '\u{1F695}'],
  ['bus', '\u{1F68C}'], ['steam_locomotive', '\u{1F682}'], ['bike', '\u{1F6B2}'], ['ship', '\u{1F6A2}'], ['anchor', '\u{2693}'],
  ['construction', '\u{1F6A7}'], ['rotating_light', '\u{1F6A8}'], ['vertical_traffic_light', '\u{1F6A6}'],
  ['house', '\u{1F3E0}'], ['office', '\u{1F3E2}'], ['hospital', '\u{1F3E5}'], ['school', '\u{1F3EB}'], ['tent', '\u{26FA}'],
  ['moyai', '\u{1F5FF}'], ['statue_of_liberty', '\u{1F5FD}'], ['world_map', `\u{1F5FA}${VS16}`],
  ['globe_with_meridians', '\u{1F310}'], ['mountain', `\u{26F0}${VS16}`], ['volcano', '\u{1F30B}'],
  ['desert_island', `\u{1F3DD}${VS16}`],

  // Symbols
  ['white_check_mark', '\u{2705}'], ['heavy_check_mark', `\u{2714}${VS16}`], ['ballot_box_with_check', `\u{2611}${VS16}`],
  ['x', '\u{274C}'], ['negative_squared_cross_mark', '\u{274E}'], ['heavy_multiplication_x', `\u{2716}${VS16}`],
  ['heavy_plus_sign', '\u{2795}'], ['heavy_minus_sign', '\u{2796}'], ['heavy_division_sign', '\u{2797}'],
  ['warning', `\u{26A0}${VS16}`], ['no_entry', '\u{26D4}'], ['no_entry_sign', '\u{1F6AB}'], ['stop_sign', '\u{1F6D1}'],
  ['question', '\u{2753}'], ['grey_question', '\u{2754}'], ['exclamation heavy_exclamation_mark', '\u{2757}'],
  ['grey_exclamation', '\u{2755}'], ['bangbang', `\u{203C}${VS16}`], ['interrobang', `\u{2049}${VS16}`],
  ['information_source', `\u{2139}${VS16}`], ['recycle', `\u{267B}${VS16}`], ['arrow_up', `\u{2B06}${VS16}`],
  ['arrow_down', `\u{2B07}${VS16}`], ['arrow_left', `\u{2B05}${VS16}`], ['arrow_right', `\u{27A1}${VS16}`],
  ['arrows_counterclockwise', '\u{1F504}'], ['repeat', '\u{1F501}'], ['soon', '\u{1F51C}'], ['new', '\u{1F195}'],
  ['free', '\u{1F193}'], ['up', '\u{1F199}'], ['cool', '\u{1F192}'], ['ok', '\u{1F197}'], ['sos', '\u{1F198}'],
  ['red_circle', '\u{1F534}'], ['large_blue_circle', '\u{1F535}'], ['green_circle', '\u{1F7E2}'],
  ['yellow_circle', '\u{1F7E1}'], ['orange_circle', '\u{1F7E0}'], ['purple_circle', '\u{1F7E3}'],
  ['black_circle', '\u{26AB}'], ['white_circle', '\u{26AA}'], ['red_square', '\u{1F7E5}'], ['green_square', '\u{1F7E9}'],
  ['large_blue_diamond', '\u{1F537}'], ['small_orange_diamond', '\u{1F538}'], ['infinity', `\u{267E}${VS16}`],
  ['copyright', `\u{00A9}${VS16}`], ['registered', `\u{00AE}${VS16}`], ['tm', `\u{2122}${VS16}`],
  ['hash', `\u{0023}${VS16}\u{20E3}`], ['zero', `\u{0030}${VS16}\u{20E3}`], ['one', `\u{0031}${VS16}\u{20E3}`],
  ['two', `\u{0032}${VS16}\u{20E3}`], ['three', `\u{0033}${VS16}\u{20E3}`], ['keycap_ten', '\u{1F51F}'],
  ['1234', '\u{1F522}'], ['abc', '\u{1F524}'], ['peace_symbol', `\u{262E}${VS16}`], ['yin_yang', `\u{262F}${VS16}`],
  ['radioactive', `\u{2622}${VS16}`], ['biohazard', `\u{2623}${VS16}`], ['atom_symbol', `\u{269B}${VS16}`],
  ['musical_score', '\u{1F3BC}'], ['mute', '\u{1F507}'], ['loud_sound', '\u{1F50A}'], ['mega', '\u{1F4E3}'],
  ['loudspeaker', '\u{1F4E2}'],

  // Flags
  ['checkered_flag', '\u{1F3C1}'], ['triangular_flag_on_post', '\u{1F6A9}'], ['white_flag', `\u{1F3F3}${VS16}`],
  ['black_flag', '\u{1F3F4}'], ['rainbow_flag', `\u{1F3F3}${VS16}${ZWJ}\u{1F308}`],
  ['transgender_flag', `\u{1F3F3}${VS16}${ZWJ}\u{26A7}${VS16}`], ['pirate_flag', `\u{1F3F4}${ZWJ}\u{2620}${VS16}`],
  // A subdivision flag: black flag, the tag letters "gbeng", cancel tag.
  ['flag-england', '\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}'],
  ...['ar', 'at', 'au', 'be', 'br', 'ca', 'ch', 'cn', 'cz', 'de', 'dk', 'eg', 'es', 'eu', 'fi', 'fr', 'gb', 'gr', 'ie', 'il',
    'in', 'it', 'jp', 'kr', 'mx', 'ng', 'nl', 'no', 'nz', 'pl', 'pt', 'ru', 'se', 'sg', 'tr', 'ua', 'us', 'za'].map(
    (region) => [`flag-${region}`, flag(region)] as const,
  ),
];

const BY_NAME: ReadonlyMap<string, string> = new Map(
  TABLE.flatMap(([names, emoji]) => names.split(' ').map((name) => [name, emoji] as const)),
);

/** Every shortcode name, sorted, for completion. */
export const SHORTCODE_NAMES: readonly string[] = Object.freeze([...BY_NAME.keys()].sort());

/** The table as written, for tests: each emoji once with all of its names. */
export const SHORTCODE_TABLE = TABLE;

/** The emoji a shortcode name stands for, or undefined when the name is not known. */
export function emojiFor(name: string): string | undefined {
  return BY_NAME.get(name);
}

/** The names that start with `prefix`, sorted; `:sho` completes from `sho`. */
export function shortcodesStartingWith(prefix: string): string[] {
  return SHORTCODE_NAMES.filter((name) => name.startsWith(prefix));
}

const MODIFIER_BASE = /^\p{Emoji_Modifier_Base}$/u;
// Built at run time: TypeScript targets ES2022 and rejects the `v` flag in a
// literal, but Node 20 supports it. RGI is Unicode's list of the emoji
// sequences that fonts are expected to draw as one picture.
const RGI_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');

/**
 * `emoji` with the skin tone of Slack's `:skin-tone-N:` (N 2–6 → U+1F3FB–
 * U+1F3FF), or undefined when it takes none. The modifier goes right after
 * the first code point that accepts one (Emoji_Modifier_Base), replacing
 * the VS16 that may follow it (☝️ → ☝🏽), and is kept only when the result
 * is an RGI emoji: 👪 is a modifier base but 👪🏽 is no emoji, and a family
 * of several people cannot be tinted by its first member alone.
 */
export function withSkinTone(emoji: string, tone: number): string | undefined {
  if (!Number.isInteger(tone) || tone < 2 || tone > 6) return undefined;
  const chars = [...emoji];
  const base = chars.findIndex((char) => MODIFIER_BASE.test(char));
  if (base < 0) return undefined;
  const after = chars[base + 1] === VS16 ? base + 2 : base + 1;
  const toned = [...chars.slice(0, base + 1), String.fromCodePoint(0x1f3fb + tone - 2), ...chars.slice(after)].join('');
  return RGI_EMOJI.test(toned) ? toned : undefined;
}
