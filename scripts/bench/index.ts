/**
 * `npm run bench -- <suite> [options]`: envs (environment throughput), learn (steps and seconds to
 * a return threshold), updates (gradient updates per second), worldmodel (the world model's learning,
 * task, error and planner figures), lm (wmgym-lm: the pure-LLM agent's success, the prior's accuracy, tokens/s). Each prints JSON on stdout; the
 * figures in BENCHMARKS.md come from these commands.
 */
const suites: Record<string, () => Promise<{ main(argv: string[]): Promise<void> }>> = {
  envs: () => import('./envs.js'),
  learn: () => import('./learn.js'),
  lm: () => import('./lm.js'),
  updates: () => import('./updates.js'),
  worldmodel: () => import('./worldmodel.js'),
};

const [suite, ...rest] = process.argv.slice(2);
const load = suite === undefined ? undefined : suites[suite];
if (load === undefined) {
  console.error(
    `Usage: npm run bench -- <${Object.keys(suites).join(' | ')}> [options]; received ${JSON.stringify(suite ?? '')}`,
  );
  process.exitCode = 2;
} else {
  const module = await load();
  await module.main(rest);
}
