/**
 * The example game of the README (`examples/lost-coin.json`), built in so `TextWorld-File-v0` plays
 * it when no file is given. A test checks it equals the JSON file.
 */
import type { GameFile } from './game-file.js';

/** "The Lost Coin": four rooms, a locked trapdoor, a locked chest, a poisonous mushroom; 17 commands. */
export const EXAMPLE_GAME: GameFile = {
  format: 'wmgym-textworld',
  version: 1,
  title: 'The Lost Coin',
  intro:
    'Your grandmother hid her lucky gold coin somewhere in the old house, and she wants it back on the kitchen table before supper.',
  start: 'hall',
  rooms: [
    {
      id: 'hall',
      name: 'entrance hall',
      description: 'A narrow hall with a worn rug. A trapdoor is set into the floor.',
      exits: {
        north: 'kitchen',
        down: {
          to: 'cellar',
          door: 'trapdoor',
        },
      },
    },
    {
      id: 'kitchen',
      name: 'kitchen',
      description: 'The kitchen smells of soup and wood smoke.',
      exits: {
        south: 'hall',
        east: {
          to: 'pantry',
          door: 'pantry_door',
        },
      },
    },
    {
      id: 'pantry',
      name: 'pantry',
      description: 'Shelves of jars line the walls of this cramped pantry.',
      exits: {
        west: {
          to: 'kitchen',
          door: 'pantry_door',
        },
      },
    },
    {
      id: 'cellar',
      name: 'cellar',
      description: 'A cold, damp cellar. Something scuttles in the dark.',
      exits: {
        up: {
          to: 'hall',
          door: 'trapdoor',
        },
      },
    },
  ],
  doors: [
    {
      id: 'trapdoor',
      name: 'trapdoor',
      description: 'A heavy oak trapdoor with an iron lock.',
      state: 'locked',
      key: 'iron_key',
    },
    {
      id: 'pantry_door',
      name: 'pantry door',
      state: 'closed',
    },
  ],
  containers: [
    {
      id: 'bread_bin',
      name: 'bread bin',
      synonyms: ['bin'],
      room: 'pantry',
      state: 'closed',
    },
    {
      id: 'chest',
      name: 'wooden chest',
      room: 'cellar',
      state: 'locked',
      key: 'brass_key',
      description: 'An old sea chest, bound with brass.',
    },
  ],
  supporters: [
    {
      id: 'table',
      name: 'kitchen table',
      room: 'kitchen',
      description: 'A scrubbed pine table.',
    },
  ],
  objects: [
    {
      id: 'iron_key',
      name: 'iron key',
      location: 'table',
      description: 'A large iron key.',
    },
    {
      id: 'brass_key',
      name: 'brass key',
      location: 'bread_bin',
      description: 'A small brass key.',
    },
    {
      id: 'coin',
      name: 'gold coin',
      synonyms: ['money'],
      location: 'chest',
      description: "Grandmother's lucky gold coin.",
    },
    {
      id: 'apple',
      name: 'red apple',
      location: 'hall',
      edible: true,
    },
    {
      id: 'mushroom',
      name: 'grey mushroom',
      location: 'cellar',
      edible: true,
      description: 'It does not look safe to eat.',
    },
  ],
  quest: {
    objective:
      "Find grandmother's gold coin and put it on the kitchen table. Whatever you do, don't eat the grey mushroom.",
    win: ['on(coin, table)'],
    fail: ['eaten(mushroom)'],
  },
};
