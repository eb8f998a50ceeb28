/**
 * Registers every environment id of the suite. Importing `wmgym` runs this once; each family keeps
 * its ids in one block of `register({...})` data below.
 */
import { register } from './core/registry.js';

// ---- classic control (Gymnasium dynamics) ------------------------------------------------------

// ---- gridnav --------------------------------------------------------------------------------------

// ---- textworld ------------------------------------------------------------------------------------

export { register };
