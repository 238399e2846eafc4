import { execFileSync } from 'node:child_process';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import type { MachineInfo } from './results.js';

/** CPU, memory, Node version and the disk under the temp dir (where file and SQLite stores live). */
export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${platform()} ${release()}`,
    tempDir: tmpdir(),
    tempDisk: diskOf(tmpdir()),
  };
}

/** "device (fstype), N GiB free" from `df`, or what can be said without it. */
function diskOf(dir: string): string {
  try {
    const out = execFileSync('df', ['-PT', dir], { encoding: 'utf8', timeout: 2_000 }).trim().split('\n');
    const fields = (out[1] ?? '').split(/\s+/);
    const [device, type, , , available] = fields;
    const freeGiB = Math.round((Number(available) / 2 ** 20) * 10) / 10;
    return `${device} (${type}), ${freeGiB} GiB free`;
  } catch {
    return 'unknown (df not available)';
  }
}
