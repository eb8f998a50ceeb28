/**
 * The small vocabulary grammar generated games are written in: room names and descriptions, names
 * of things (adjectives + noun), their descriptions, the title, the intro and the objective sentence.
 * All choices come from the game's text generator, so two seeds read differently; `variety` (0..1)
 * narrows the word lists and the number of flavour sentences.
 */
import type { Rng } from '../core/rng.js';

const ROOM_TYPES = [
  'kitchen',
  'pantry',
  'cellar',
  'attic',
  'library',
  'study',
  'parlor',
  'bedroom',
  'bathroom',
  'hallway',
  'corridor',
  'foyer',
  'gallery',
  'workshop',
  'greenhouse',
  'conservatory',
  'chapel',
  'armory',
  'vault',
  'laboratory',
  'office',
  'studio',
  'garage',
  'ballroom',
  'dining room',
  'nursery',
  'scullery',
  'observatory',
  'lounge',
  'laundry',
  'boiler room',
  'storeroom',
  'wine cellar',
  'music room',
  'sunroom',
  'guest room',
  'drawing room',
  'map room',
  'trophy room',
  'tower room',
];
const ROOM_ADJECTIVES = [
  'dusty',
  'cramped',
  'spacious',
  'gloomy',
  'bright',
  'chilly',
  'cozy',
  'musty',
  'silent',
  'draughty',
  'shabby',
  'elegant',
  'cluttered',
  'bare',
  'damp',
  'sunlit',
  'narrow',
  'vaulted',
  'forgotten',
  'tidy',
  'crooked',
  'echoing',
  'warm',
  'smoky',
];
const ROOM_OPENINGS = [
  'You are in a {room}.',
  'You find yourself in a {room}.',
  'This is a {room}.',
  'You have entered a {room}.',
  'You step into a {room}.',
  'Well, here you are in a {room}.',
];
const FLAVOUR = [
  'The air smells of {smell}.',
  'Somewhere far away, {sound}.',
  'The walls are covered in {wall}.',
  'The floorboards creak under your feet.',
  'A thin layer of dust covers everything.',
  'Pale light falls through a small window.',
  'It is oddly quiet here.',
  'Someone left in a hurry, by the look of it.',
  'A faint draught stirs the air.',
];
const SMELLS = [
  'old books',
  'fresh bread',
  'wet stone',
  'lavender',
  'candle wax',
  'machine oil',
  'pine resin',
  'rain',
];
const SOUNDS = [
  'a clock is ticking',
  'a dog barks',
  'water drips',
  'a door slams',
  'someone hums a tune',
];
const WALLS = [
  'faded wallpaper',
  'old paintings',
  'peeling paint',
  'wooden panels',
  'ivy',
  'maps of distant lands',
];

const ITEM_NOUNS = [
  'book',
  'lamp',
  'candle',
  'compass',
  'map',
  'scroll',
  'ring',
  'hat',
  'glove',
  'boot',
  'cup',
  'mug',
  'plate',
  'bottle',
  'vase',
  'clock',
  'mirror',
  'brush',
  'comb',
  'pen',
  'notebook',
  'spoon',
  'bell',
  'whistle',
  'flute',
  'telescope',
  'lantern',
  'rope',
  'ball',
  'doll',
  'statuette',
  'medallion',
  'amulet',
  'feather',
  'shell',
  'crystal',
  'pendant',
  'watch',
  'umbrella',
  'scarf',
];
const ITEM_ADJECTIVES = [
  'red',
  'blue',
  'green',
  'yellow',
  'black',
  'white',
  'silver',
  'golden',
  'copper',
  'wooden',
  'old',
  'tiny',
  'large',
  'shiny',
  'chipped',
  'cracked',
  'ornate',
  'plain',
  'striped',
  'purple',
];
const FOOD_NOUNS = [
  'apple',
  'pear',
  'banana',
  'carrot',
  'loaf',
  'cheese',
  'sandwich',
  'pie',
  'cake',
  'cookie',
  'muffin',
  'potato',
  'tomato',
  'plum',
  'peach',
  'mushroom',
  'sausage',
  'biscuit',
];
const FOOD_ADJECTIVES = [
  'red',
  'green',
  'ripe',
  'fresh',
  'small',
  'large',
  'crunchy',
  'juicy',
  'stale',
  'sweet',
  'sour',
  'golden',
];
const KEY_ADJECTIVES = [
  'brass',
  'iron',
  'silver',
  'golden',
  'copper',
  'bronze',
  'steel',
  'rusty',
  'tiny',
  'ornate',
  'bone',
  'glass',
  'crystal',
  'heavy',
  'slender',
  'jagged',
];
const CONTAINER_NOUNS = [
  'chest',
  'box',
  'crate',
  'trunk',
  'cabinet',
  'safe',
  'locker',
  'cupboard',
  'wardrobe',
  'casket',
  'coffer',
  'footlocker',
  'case',
];
const SUPPORTER_NOUNS = [
  'table',
  'shelf',
  'desk',
  'counter',
  'bench',
  'workbench',
  'stand',
  'pedestal',
  'dresser',
  'sideboard',
  'mantelpiece',
  'nightstand',
];
const FURNITURE_ADJECTIVES = [
  'wooden',
  'iron',
  'metal',
  'oak',
  'pine',
  'battered',
  'sturdy',
  'painted',
  'carved',
  'red',
  'green',
  'dark',
  'antique',
  'walnut',
];
const DOOR_NOUNS = ['door', 'gate', 'hatch', 'portal'];
const DOOR_ADJECTIVES = [
  'oak',
  'iron',
  'wooden',
  'red',
  'green',
  'heavy',
  'narrow',
  'glass',
  'steel',
  'painted',
  'arched',
  'barred',
  'blue',
  'creaky',
];
const QUALITIES = [
  'well used',
  'brand new',
  'rather ordinary',
  'slightly dented',
  'beautifully made',
  'old but sturdy',
  'covered in scratches',
  'surprisingly light',
];
const TASTES = ['delicious', 'edible enough', 'a little bruised', 'very tempting', 'fresh'];
const TITLES = [
  'A Quiet House',
  'The Errand',
  'Lost and Found',
  'The Old Manor',
  'A Small Quest',
  'Rooms and Keys',
  'The Visitor',
  'Odds and Ends',
];
const INTROS = [
  'Welcome to TextWorld!',
  'Here is your task for today.',
  'Listen carefully.',
  'Another day, another adventure.',
  'You wake up with a single thought in mind.',
];

/** The kinds of name the grammar makes. */
export type NameKind = 'item' | 'food' | 'key' | 'container' | 'supporter' | 'door';

/** Text generator for one game: names are unique within it. */
export class TextMaker {
  private readonly rng: Rng;
  private readonly variety: number;
  private readonly usedNames = new Set<string>();
  private readonly usedRooms = new Set<string>();

  /** `variety` in [0, 1]: 0 uses few words and no flavour, 1 all of them. */
  constructor(rng: Rng, variety: number) {
    this.rng = rng;
    this.variety = variety;
  }

  /** A slice of a word list: its first max(min, ceil(variety × length)) entries. */
  private words(list: readonly string[], min = 3): readonly string[] {
    return list.slice(0, Math.max(min, Math.ceil(this.variety * list.length)));
  }

  private pick<T>(list: readonly T[]): T {
    return this.rng.choice(list);
  }

  /** `n` distinct room names. */
  roomNames(n: number): string[] {
    let adjectives = this.words(ROOM_ADJECTIVES, 4);
    let types = this.words(ROOM_TYPES, 6);
    if (adjectives.length * types.length < n * 2) {
      adjectives = ROOM_ADJECTIVES;
      types = ROOM_TYPES;
    }
    const out: string[] = [];
    while (out.length < n) {
      const name = `${this.pick(adjectives)} ${this.pick(types)}`;
      if (this.usedRooms.has(name)) continue;
      this.usedRooms.add(name);
      out.push(name);
    }
    return out;
  }

  /** A room description: an opening sentence and, with variety, flavour sentences. */
  roomDescription(name: string): string {
    let out = this.pick(this.words(ROOM_OPENINGS, 2)).replace('{room}', name);
    const flavour =
      this.rng.random() < this.variety ? 1 + (this.rng.random() < this.variety / 3 ? 1 : 0) : 0;
    const sentences = this.rng.shuffle([...this.words(FLAVOUR, 2)]).slice(0, flavour);
    for (const s of sentences) {
      out += ` ${s.replace('{smell}', this.pick(SMELLS)).replace('{sound}', this.pick(SOUNDS)).replace('{wall}', this.pick(WALLS))}`;
    }
    return out;
  }

  /** A fresh unique name of the given kind; `noun` forces the noun (for look-alikes). */
  thingName(kind: NameKind, noun?: string): string {
    const [adjectives, nouns] = NAME_LISTS[kind];
    for (let attempt = 0; attempt < 200; attempt++) {
      const wide = attempt > 50;
      const adjective = this.pick(wide ? adjectives : this.words(adjectives, 4));
      const n = noun ?? this.pick(wide ? nouns : this.words(nouns, 4));
      const name = `${adjective} ${n}`;
      if (this.usedNames.has(name)) continue;
      this.usedNames.add(name);
      return name;
    }
    // Every combination is taken: number the noun (only reached with more things than words).
    for (let i = 2; ; i++) {
      const name = `${noun ?? nouns[0]!} ${i}`;
      if (!this.usedNames.has(name)) {
        this.usedNames.add(name);
        return name;
      }
    }
  }

  /** Reserves a fixed name (e.g. `coin`). */
  reserve(name: string): string {
    this.usedNames.add(name);
    return name;
  }

  /** A description for `examine`. */
  thingDescription(kind: NameKind, name: string): string {
    if (kind === 'food') return `The ${name} looks ${this.pick(TASTES)}.`;
    if (kind === 'key') return `A ${name}. It must open something around here.`;
    return `The ${name} is ${this.pick(this.words(QUALITIES, 3))}.`;
  }

  /** A title. */
  title(): string {
    return this.pick(this.words(TITLES, 2));
  }

  /** The objective: an opening and the task sentence made from `task` alternatives. */
  objective(tasks: readonly string[]): string {
    return `${this.pick(this.words(INTROS, 2))} ${this.pick(this.words(tasks, 1))}`;
  }
}

const NAME_LISTS: Readonly<Record<NameKind, readonly [readonly string[], readonly string[]]>> = {
  item: [ITEM_ADJECTIVES, ITEM_NOUNS],
  food: [FOOD_ADJECTIVES, FOOD_NOUNS],
  key: [KEY_ADJECTIVES, ['key']],
  container: [FURNITURE_ADJECTIVES, CONTAINER_NOUNS],
  supporter: [FURNITURE_ADJECTIVES, SUPPORTER_NOUNS],
  door: [DOOR_ADJECTIVES, DOOR_NOUNS],
};

/** An id made from a name: `dusty kitchen` → `dusty_kitchen`. */
export function slug(name: string): string {
  return name.replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}
