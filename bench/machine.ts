/** The machine a result was measured on: numbers without it cannot be compared. */
import { execFile } from 'node:child_process';
import { cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';

export interface MachineInfo {
  readonly date: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly freeMemoryGiB: number;
  readonly node: string;
  readonly os: string;
  /** 1-minute load average when the bench started: above the core count means the numbers are pessimistic. */
  readonly loadAverage1m: number;
  readonly gitCommit?: string;
  readonly gitDirty?: boolean;
  readonly awsCli?: string;
}

function git(args: readonly string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', [...args], { timeout: 10_000 }, (error, stdout) =>
      resolve(error === null ? stdout.trim() : undefined),
    );
  });
}

export async function describeMachine(awsCli: string | undefined): Promise<MachineInfo> {
  const list = cpus();
  const gib = (bytes: number) => Math.round((bytes / 1024 ** 3) * 10) / 10;
  const commit = await git(['rev-parse', '--short', 'HEAD']);
  const status = await git(['status', '--porcelain']);
  return {
    date: new Date().toISOString(),
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: gib(totalmem()),
    freeMemoryGiB: gib(freemem()),
    node: process.version,
    os: `${platform()} ${release()}`,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    ...(commit === undefined ? {} : { gitCommit: commit, gitDirty: (status ?? '') !== '' }),
    ...(awsCli === undefined ? {} : { awsCli }),
  };
}
