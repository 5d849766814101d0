/**
 * Launch and attach attributes: their types, and validation at run time (the JSON schema in
 * package.json only helps the editor; a hand-written launch.json can hold anything).
 */
import { isAbsolute, resolve } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { tcpEndpoint } from '../qemu/endpoint';

export type Platform = 'rumprun' | 'mirage' | 'unikraft' | 'generic';
const PLATFORMS: readonly Platform[] = ['rumprun', 'mirage', 'unikraft', 'generic'];

export interface CommonArguments {
  symbols?: string;
  platform?: Platform;
  gdbPath?: string;
  /** Let gdb read the user's init files (off by default). */
  gdbInitFiles?: boolean;
  /** Extra gdb commands run after the symbols are loaded. */
  setupCommands?: string[];
  stopAtEntry?: boolean | string;
  cwd?: string;
  /** Build path prefix → local directory, for images built elsewhere. */
  sourceMap?: Record<string, string>;
}

export interface LaunchArguments extends DebugProtocol.LaunchRequestArguments, CommonArguments {
  kernel: string;
  cmdline?: string;
  memory?: number;
  cpus?: number;
  qemuPath?: string;
  qemuArgs?: string[];
  consoleLog?: string;
  /** A NIC on QEMU user networking: true, or with host port forwards. */
  net?: { hostfwd?: string[] };
  /** Host disk images, as virtio block devices. */
  disks?: { path: string; mountpoint?: string }[];
  /** Ctrl+F5: run without gdb. */
  noDebug?: boolean;
  /** Most console characters a second shown in the Debug Console (all go to the log). */
  consoleRateLimit?: number;
  /** Record the run (QEMU record/replay) so that Step Back and Reverse Continue work. */
  record?: boolean;
  /** Most snapshots a replay keeps to make going back fast (0: none, every step back replays from the start). */
  replayCheckpoints?: number;
}

export interface AttachArguments extends DebugProtocol.AttachRequestArguments, CommonArguments {
  target: string;
  console?: string;
  /** The guest's QEMU QMP socket (path or host:port): large memory reads come from QEMU directly. */
  qmp?: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, unknown>;

function optString(raw: Raw, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigError(`"${key}" must be a string.`);
  if (v.includes('\0')) throw new ConfigError(`"${key}" contains a NUL character.`);
  return v;
}

function optBool(raw: Raw, key: string): boolean | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ConfigError(`"${key}" must be true or false.`);
  return v;
}

function optInt(raw: Raw, key: string, min: number, max: number): number | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`"${key}" must be a whole number from ${min} to ${max}.`);
  }
  return v;
}

function optStringArray(raw: Raw, key: string): string[] | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ConfigError(`"${key}" must be an array of strings.`);
  return v as string[];
}

function optPath(raw: Raw, key: string, cwd: string): string | undefined {
  const v = optString(raw, key);
  if (v === undefined) return undefined;
  if (v.trim() === '') throw new ConfigError(`"${key}" is empty.`);
  return isAbsolute(v) ? v : resolve(cwd, v);
}

function common(raw: Raw): CommonArguments & { cwd: string } {
  const cwdRaw = optString(raw, 'cwd');
  const cwd = cwdRaw ? resolve(cwdRaw) : process.cwd();
  const platform = optString(raw, 'platform');
  if (platform !== undefined && !PLATFORMS.includes(platform as Platform)) {
    throw new ConfigError(`"platform" must be one of ${PLATFORMS.join(', ')}.`);
  }
  const stopAtEntryRaw = raw.stopAtEntry;
  if (stopAtEntryRaw !== undefined && typeof stopAtEntryRaw !== 'boolean' && typeof stopAtEntryRaw !== 'string') {
    throw new ConfigError('"stopAtEntry" must be true, false, or a function name.');
  }
  return {
    cwd,
    symbols: optPath(raw, 'symbols', cwd),
    platform: platform as Platform | undefined,
    gdbPath: optString(raw, 'gdbPath'),
    gdbInitFiles: optBool(raw, 'gdbInitFiles'),
    setupCommands: optStringArray(raw, 'setupCommands'),
    stopAtEntry: stopAtEntryRaw as boolean | string | undefined,
    sourceMap: optSourceMap(raw, cwd),
  };
}

function optSourceMap(raw: Raw, cwd: string): Record<string, string> | undefined {
  const v = raw.sourceMap;
  if (v === undefined || v === null) return undefined;
  const bad = (): never => {
    throw new ConfigError('"sourceMap" must map build paths to local directories, like { "/build/path": "${workspaceFolder}" }.');
  };
  if (typeof v !== 'object' || Array.isArray(v)) return bad();
  const out: Record<string, string> = {};
  for (const [from, to] of Object.entries(v as Raw)) {
    if (from.trim() === '' || typeof to !== 'string' || to.trim() === '' || to.includes('\0')) return bad();
    out[from] = isAbsolute(to) ? to : resolve(cwd, to);
  }
  return out;
}

export function validateLaunch(raw: Raw): LaunchArguments {
  const c = common(raw);
  const kernel = optPath(raw, 'kernel', c.cwd);
  if (!kernel) throw new ConfigError('"kernel" is missing: set it to the unikernel image QEMU should boot.');
  const cpus = optInt(raw, 'cpus', 1, 64);
  const record = optBool(raw, 'record');
  if (record && cpus !== undefined && cpus > 1) {
    throw new ConfigError(`"record" needs one vCPU: QEMU's record/replay does not support "cpus": ${cpus}. Remove "cpus" or "record".`);
  }
  return {
    ...c,
    kernel,
    cmdline: optString(raw, 'cmdline'),
    memory: optInt(raw, 'memory', 8, 1024 * 1024),
    cpus,
    qemuPath: optString(raw, 'qemuPath'),
    qemuArgs: optQemuArgs(raw),
    consoleLog: optPath(raw, 'consoleLog', c.cwd),
    net: optNet(raw),
    disks: optDisks(raw, c.cwd),
    noDebug: optBool(raw, 'noDebug'),
    consoleRateLimit: optInt(raw, 'consoleRateLimit', 1024, 1 << 30),
    record,
    replayCheckpoints: optInt(raw, 'replayCheckpoints', 0, 1024),
  };
}

/** Our own plan owns the machine's sockets and lifecycle: arguments that would change them are refused. */
const RESERVED_QEMU_OPTIONS = ['-gdb', '-s', '-S', '-qmp', '-serial', '-kernel', '-daemonize', '-pidfile', '-chardev', '-monitor', '-nographic', '-no-shutdown', '-action'];

function optQemuArgs(raw: Raw): string[] | undefined {
  const args = optStringArray(raw, 'qemuArgs');
  const bad = args?.find((a) => RESERVED_QEMU_OPTIONS.includes(a.replace(/^--/, '-')));
  if (bad) throw new ConfigError(`"qemuArgs" may not contain ${bad}: the debugger sets up the GDB stub, console, QMP and kernel itself.`);
  return args;
}

function optNet(raw: Raw): { hostfwd?: string[] } | undefined {
  const v = raw.net;
  if (v === undefined || v === null || v === false) return undefined;
  if (v === true) return {};
  if (typeof v === 'object' && !Array.isArray(v)) {
    const hostfwd = (v as Raw).hostfwd;
    if (hostfwd !== undefined && (!Array.isArray(hostfwd) || hostfwd.some((h) => typeof h !== 'string' || !/^(tcp|udp):[\w.]*:\d+-[\w.]*:\d+$/.test(h)))) {
      throw new ConfigError('"net.hostfwd" must be a list like ["tcp::8080-:80"].');
    }
    return { hostfwd: hostfwd as string[] | undefined };
  }
  throw new ConfigError('"net" must be true or an object such as { "hostfwd": ["tcp::8080-:80"] }.');
}

function optDisks(raw: Raw, cwd: string): { path: string; mountpoint?: string }[] | undefined {
  const v = raw.disks;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new ConfigError('"disks" must be a list of disk image paths or { "path", "mountpoint" } objects.');
  return v.map((d, i) => {
    const item = typeof d === 'string' ? { path: d } : d;
    if (!item || typeof item !== 'object' || typeof (item as Raw).path !== 'string') {
      throw new ConfigError(`"disks[${i}]" must be a path or an object with "path".`);
    }
    const p = (item as Raw).path as string;
    const mountpoint = (item as Raw).mountpoint;
    if (mountpoint !== undefined && typeof mountpoint !== 'string') throw new ConfigError(`"disks[${i}].mountpoint" must be a string.`);
    return { path: isAbsolute(p) ? p : resolve(cwd, p), mountpoint: mountpoint as string | undefined };
  });
}

export function validateAttach(raw: Raw): AttachArguments {
  const c = common(raw);
  const target = optString(raw, 'target');
  if (!target || target.trim() === '') {
    throw new ConfigError('"target" is missing: set it to host:port or the Unix socket path of a running GDB stub.');
  }
  const consoleSpec = optString(raw, 'console');
  const qmp = optString(raw, 'qmp')?.trim();
  return {
    ...c,
    target: target.trim(),
    console: consoleSpec ? normalizeTarget(consoleSpec, c.cwd) : undefined,
    qmp: qmp ? normalizeTarget(qmp, c.cwd) : undefined,
  };
}

/** `host:port` stays as it is; anything else is a Unix socket path, made absolute. */
export function normalizeTarget(target: string, cwd: string): string {
  if (tcpEndpoint(target)) return target;
  return isAbsolute(target) ? target : resolve(cwd, target);
}
