/**
 * `npm run bench`: runs every benchmark and prints one JSON document (machine, Node, figures).
 * `npm run bench -- NAME` runs the benchmarks whose file name contains NAME.
 */
import { cpus, totalmem } from 'node:os';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2] ?? '';
const files = (await readdir(dir)).filter((f) => f.endsWith('.bench.ts') && f.includes(filter)).sort();
const results: Record<string, unknown> = {
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
};
for (const file of files) {
  process.stderr.write(`running ${file}\n`);
  const mod = (await import(`./${file}`)) as { run: () => Promise<Record<string, unknown>> };
  results[file.replace('.bench.ts', '')] = await mod.run();
}
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
