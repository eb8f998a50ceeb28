/**
 * Loads every language-model provider of the suite, so that `createLanguageModel({ provider })`
 * knows `openai` (an OpenAI-compatible endpoint), `cassette` (record and replay another
 * provider) and `local` (wmgym-lm, the offline default). The package index loads it.
 */
import './openai.js';
import './cassette.js';
import './local.js';
