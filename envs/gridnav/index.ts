/**
 * GridNav: MiniGrid-class grid worlds on one engine, with an exact breadth-first-search oracle and
 * Task-k levels whose shortest solution is exactly k actions.
 */
export * from './world.js';
export * from './observation.js';
export * from './solver.js';
export * from './text.js';
export * from './render.js';
export * from './gridnav-env.js';
export * from './room-grid.js';
export * from './empty.js';
export * from './four-rooms.js';
export * from './door-key.js';
export * from './multi-room.js';
export * from './lava-crossing.js';
export * from './key-corridor.js';
export * from './unlock.js';
export * from './blocked-unlock-pickup.js';
export * from './task-k.js';
export * from './state-text.js';
