import { reverseStepBench } from '/work/main/bench/lib/reverse';
import { readFileSync } from 'node:fs';
const src = '/work/main/test/fixtures/kernel.c';
const line = readFileSync(src, 'utf8').split('\n').findIndex((l) => l.includes('@bp:grind-end')) + 1;
(async () => {
  for (const cp of [32]) {
    const r = await reverseStepBench({ adapter: '/work/main/dist/debugAdapter.js', kernel: '/work/main/test/fixtures/build/kernel.elf', source: src, line, rounds: 10, grindRounds: 125_000_000, replayCheckpoints: cp });
    console.log(cp, JSON.stringify(r));
  }
})();
