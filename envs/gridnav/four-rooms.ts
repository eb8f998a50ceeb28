/**
 * FourRooms: a 19x19 square split into four rooms by walls, each wall pierced by one gap at a random
 * place; the agent and the goal are placed at random (MiniGrid's FourRooms, Sutton et al. 1999).
 * ## Mission        "reach the goal"
 * ## Max steps      100
 * @example const env = make('GridNav-FourRooms-v0'); env.reset({ seed: 0 });
 */
import type { Rng } from '../core/rng.js';
import { GridNavEnv, type GeneratedLevel, type GridNavOptions } from './gridnav-env.js';
import { EMPTY, GOAL, type GridWorld } from './world.js';

/** Options of {@link FourRoomsEnv}. */
export type FourRoomsOptions = GridNavOptions;

const SIZE = 19;

/** MiniGrid's FourRooms. */
export class FourRoomsEnv extends GridNavEnv {
  /** @throws {@link InvalidOptionError} for an unknown option. */
  constructor(options: FourRoomsOptions = {}) {
    super('FourRoomsEnv', SIZE, SIZE, 100, options);
  }

  protected generate(world: GridWorld, rng: Rng): GeneratedLevel | undefined {
    const width = SIZE;
    const height = SIZE;
    world.wallRect(0, 0, width, height);
    const roomW = Math.floor(width / 2);
    const roomH = Math.floor(height / 2);
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < 2; i++) {
        const left = i * roomW;
        const top = j * roomH;
        const right = left + roomW;
        const bottom = top + roomH;
        if (i + 1 < 2) {
          world.verticalWall(right, top, roomH);
          world.set(right, rng.integer(top + 1, bottom), EMPTY);
        }
        if (j + 1 < 2) {
          world.horizontalWall(left, bottom, roomW);
          world.set(rng.integer(left + 1, right), bottom, EMPTY);
        }
      }
    }
    world.placeAgent(rng);
    world.placeObject(rng, GOAL);
    world.mission = 'reach the goal';
    return undefined;
  }
}
