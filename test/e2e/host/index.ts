// Runs inside the real extension host of code-server (the workbench URL's `extensionTestsPath`), with
// the extension loaded from the repository. Writes one result per test to $UNIKERNEL_E2E_OUT.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { UnikernelApi } from '../../../src/extension/extension';
import type { CrashEntry } from '../../../src/extension/crashModel';
import { HOST_TESTS, type HostResult, type HostTestName } from './names';

const EXTENSION_ID = 'unikernel-debug.unikernel-debug';

/** Resolves when `check` holds, re-checking on `event` and at most every 100 ms; rejects after `ms`. */
async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function marker(text: string, name: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(`@bp:${name} */`));
  assert.ok(i >= 0, `marker ${name}`);
  return i + 1;
}

export async function run(): Promise<void> {
  const results: HostResult[] = [];
  const folder = vscode.workspace.workspaceFolders?.[0];
  const out = process.env.UNIKERNEL_E2E_OUT ?? '/tmp';
  let api: UnikernelApi | undefined;
  let sessionEntry: CrashEntry | undefined;
  const ws = folder?.uri.fsPath ?? '';
  const kernelElf = join(ws, 'build/kernel.elf');
  const savedLog = join(ws, 'logs/saved-crash.console.log');
  const kernelC = (await vscode.workspace.fs.readFile(vscode.Uri.file(join(ws, 'kernel.c')))).toString();
  const crashLine = marker(kernelC, 'crash-write');

  const tests: Record<HostTestName, () => Promise<void>> = {
    'activation contributes the commands and the Crash Trace view': async () => {
      const ext = vscode.extensions.getExtension<UnikernelApi>(EXTENSION_ID);
      assert.ok(ext, 'the extension is loaded');
      api = await ext.activate();
      const commands = await vscode.commands.getCommands(true);
      for (const c of ['unikernel.analyzeConsoleLog', 'unikernel.crashTrace.copy', 'unikernel.crashTrace.clear', 'unikernel.consoleLog.selectSymbols']) {
        assert.ok(commands.includes(c), `command ${c}`);
      }
      await vscode.commands.executeCommand('unikernel.crashTrace.clear');
      assert.equal(api.crashes.all.length, 0);
    },

    'a crashing session adds one crash, symbolized, with its console log': async () => {
      assert.ok(api && folder);
      const a = api;
      const added = new Promise<CrashEntry>((resolve) => a.crashes.onDidAdd(resolve));
      const started = await vscode.debug.startDebugging(folder, {
        type: 'unikernel',
        request: 'launch',
        name: 'Host test: crash',
        kernel: kernelElf,
        cmdline: 'mode=crash',
      });
      assert.ok(started, 'the session started');
      const session = await until('the session', () => vscode.debug.activeDebugSession);
      await Promise.race([added, new Promise((_, fail) => setTimeout(() => fail(new Error('no crash event in 60 s')), 60_000))]);
      // The live stop and the console's account of it are one crash.
      await until('the console account of the crash', () => a.crashes.all[0]?.report.frames.some((f) => f.function === 'crash_null_write'));
      const ended = new Promise<void>((resolve) => vscode.debug.onDidTerminateDebugSession((s) => s.id === session.id && resolve()));
      await vscode.debug.stopDebugging(session);
      await Promise.race([ended, new Promise((_, fail) => setTimeout(() => fail(new Error('the session did not end in 30 s')), 30_000))]);
      assert.equal(a.crashes.all.length, 1, `one crash: ${a.crashes.all.map((e) => e.report.kind).join(', ')}`);
      sessionEntry = a.crashes.all[0];
      assert.equal(sessionEntry.via, 'session');
      assert.equal(sessionEntry.report.kind, 'page-fault');
      const top = sessionEntry.report.frames.find((f) => f.function === 'crash_null_write');
      assert.equal(top?.line, crashLine);
      assert.equal(sessionEntry.symbols, kernelElf);
      // No consoleLog in the configuration: the extension kept the console in its storage.
      assert.ok(sessionEntry.log && existsSync(sessionEntry.log), `console log ${sessionEntry.log}`);
      assert.ok(sessionEntry.log.startsWith(a.consoleLogs.directory));
    },

    'the tree shows frames with source, registers and the console line': async () => {
      assert.ok(api && sessionEntry);
      const p = api.view.provider;
      const [crash] = p.getChildren();
      assert.equal(crash.type, 'crash');
      const item = p.getTreeItem(crash);
      assert.match(String(item.label), /^page-fault: /);
      const children = p.getChildren(crash);
      const frame = children.find((c) => c.type === 'frame' && c.frame.function === 'crash_null_write');
      assert.ok(frame);
      const fi = p.getTreeItem(frame);
      assert.equal(fi.label, `crash_null_write — kernel.c:${crashLine}`);
      assert.equal(fi.command?.command, 'unikernel.crashTrace.openFrame');
      const editor = await vscode.commands.executeCommand<vscode.TextEditor>(fi.command.command, ...(fi.command.arguments ?? []));
      assert.equal(editor?.document.uri.fsPath, join(ws, 'kernel.c'));
      assert.equal(editor?.selection.active.line, crashLine - 1);
      const regs = children.find((c) => c.type === 'registers');
      assert.ok(regs);
      const names = p.getChildren(regs).map((r) => (r.type === 'register' ? r.name : ''));
      assert.equal(names[0], 'rip');
      const consoleNode = children.find((c) => c.type === 'console');
      assert.ok(consoleNode);
      const ci = p.getTreeItem(consoleNode);
      const logEditor = await vscode.commands.executeCommand<vscode.TextEditor>(ci.command?.command ?? '', ...(ci.command?.arguments ?? []));
      assert.equal(logEditor?.document.languageId, 'unikernel-console');
      assert.ok(logEditor);
      const opened = logEditor.document.lineAt(logEditor.selection.active.line).text;
      // The crash breakpoint can stop the guest before its trap handler prints (then the console's
      // position at the stop is its last line), or the console's report can come first.
      const logText = logEditor.document.getText();
      if (/Solo5: trap/.test(logText)) assert.match(opened, /Solo5: trap|page fault/i);
      else assert.equal(opened, logText.trimEnd().split(/\r?\n/).at(-1), 'the last console line before the stop');
    },

    'Copy Trace as Text puts the trace on the clipboard': async () => {
      assert.ok(api);
      const text = await vscode.commands.executeCommand<string>('unikernel.crashTrace.copy');
      assert.match(text, /^page-fault: /);
      assert.match(text, new RegExp(`in crash_null_write at \\S*kernel\\.c:${crashLine}`));
      assert.match(text, /Registers:\n\s+rip\s+0x/);
      assert.equal(await vscode.env.clipboard.readText(), text);
    },

    'Analyze Console Log with arguments gives the symbolized trace': async () => {
      assert.ok(api);
      const result = await vscode.commands.executeCommand<{ entries: CrashEntry[] }>('unikernel.analyzeConsoleLog', vscode.Uri.file(savedLog), kernelElf);
      assert.equal(result.entries.length, 1);
      const [e] = result.entries;
      assert.equal(e.via, 'log');
      assert.equal(e.log, savedLog);
      assert.equal(e.report.frames[0]?.function, 'crash_null_write');
      assert.equal(e.report.frames[0]?.line, crashLine);
      assert.equal(api.crashes.all[0]?.id, e.id, 'the newest crash is on top');
      const none = await vscode.commands.executeCommand<{ entries: CrashEntry[] }>('unikernel.analyzeConsoleLog', vscode.Uri.file(join(ws, 'kernel.c')), null);
      assert.equal(none.entries.length, 0);
    },

    'a console log gets the language, a diagnostic, a hover and links': async () => {
      const uri = vscode.Uri.file(savedLog);
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      assert.equal(doc.languageId, 'unikernel-console');
      const diags = await until('diagnostics', () => {
        const d = vscode.languages.getDiagnostics(uri);
        return d.length > 0 ? d : undefined;
      });
      assert.equal(diags.length, 1);
      const trapLine = doc.getText().split(/\r?\n/).findIndex((l) => l.includes('Solo5: trap: type=#PF'));
      assert.equal(diags[0].range.start.line, trapLine);
      assert.equal(diags[0].severity, vscode.DiagnosticSeverity.Error);
      assert.match(diags[0].message, new RegExp(`crash_null_write \\(kernel\\.c:${crashLine}\\)`));
      const text = doc.lineAt(trapLine).text;
      const rip = /rip=(0x[0-9a-f]+)/.exec(text);
      assert.ok(rip);
      const at = new vscode.Position(trapLine, text.indexOf(rip[1]) + 3);
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, at);
      const hoverText = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      assert.match(hoverText, /crash_null_write/);
      assert.match(hoverText, new RegExp(`kernel\\.c:${crashLine}`));
      const links = await vscode.commands.executeCommand<vscode.DocumentLink[]>('vscode.executeLinkProvider', uri);
      const toSource = links.find((l) => l.target?.path.endsWith('/kernel.c') && l.range.start.line === trapLine);
      assert.ok(toSource, `a link from the trap line to kernel.c: ${links.map((l) => l.target?.toString()).join(', ')}`);
      assert.match(toSource.target?.fragment ?? '', new RegExp(`^L${crashLine}\\b`));
    },

    'a symbols ELF picked for a log replaces the recorded one': async () => {
      assert.ok(api);
      const uri = vscode.Uri.file(savedLog);
      const doc = await vscode.workspace.openTextDocument(uri);
      const trapLine = doc.getText().split(/\r?\n/).findIndex((l) => l.includes('Solo5: trap: type=#PF'));
      const text = doc.lineAt(trapLine).text;
      const at = new vscode.Position(trapLine, text.indexOf('rip=0x') + 6);
      const hoverOf = async () =>
        (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, at))
          .flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value)))
          .join('\n');
      await api.language.setSymbols(uri, join(ws, 'no-such.elf'));
      await until('the hover to use the picked ELF', async () => /no-such\.elf/.test(await hoverOf()));
      await api.language.setSymbols(uri, undefined);
      await until('the hover to use the recorded ELF again', async () => /crash_null_write/.test(await hoverOf()));
    },

    'Clear empties the panel': async () => {
      assert.ok(api);
      assert.ok(api.crashes.all.length > 0);
      await vscode.commands.executeCommand('unikernel.crashTrace.clear');
      assert.equal(api.crashes.all.length, 0);
      assert.equal(api.view.provider.getChildren().length, 0);
    },

    'Reverse Step Out and Reverse Step Into walk back from a crash of a recorded session': async () => {
      assert.ok(folder);
      // The adapter's stops, as VS Code receives them.
      const stops: number[] = [];
      let onStop: (() => void) | undefined;
      const tracker = vscode.debug.registerDebugAdapterTrackerFactory('unikernel', {
        createDebugAdapterTracker: () => ({
          onDidSendMessage: (m: { type?: string; event?: string; body?: { threadId?: number } }) => {
            if (m.type === 'event' && m.event === 'stopped') {
              stops.push(m.body?.threadId ?? 1);
              onStop?.();
            }
          },
        }),
      });
      const nextStop = (what: string): Promise<void> =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no stop after ${what} within 60 s`)), 60_000);
          onStop = () => {
            clearTimeout(timer);
            onStop = undefined;
            resolve();
          };
        });
      try {
        const crashed = nextStop('the launch');
        assert.ok(await vscode.debug.startDebugging(folder, { type: 'unikernel', request: 'launch', name: 'Host test: recorded', kernel: kernelElf, cmdline: 'mode=badindex', record: true }));
        await crashed;
        const session = await until('the session', () => vscode.debug.activeDebugSession);
        await until('the stopped thread in the call stack', () => vscode.debug.activeStackItem);
        const top = async (): Promise<string> => {
          const r = (await session.customRequest('stackTrace', { threadId: 1, startFrame: 0, levels: 1 })) as { stackFrames: { name: string }[] };
          return r.stackFrames[0]?.name ?? '';
        };
        assert.equal(await top(), 'use_slot');
        let stopped = nextStop('Reverse Step Out');
        assert.equal(await vscode.commands.executeCommand('unikernel.reverseStepOut'), undefined, 'Reverse Step Out reported no error');
        await stopped;
        assert.equal(await top(), 'bad_index');
        stopped = nextStop('Reverse Step Into');
        assert.equal(await vscode.commands.executeCommand('unikernel.reverseStepIn'), undefined, 'Reverse Step Into reported no error');
        await stopped;
        assert.equal(await top(), 'tidy_up');
        const ended = new Promise<void>((resolve) => vscode.debug.onDidTerminateDebugSession((s) => s.id === session.id && resolve()));
        await vscode.debug.stopDebugging(session);
        await ended;
      } finally {
        tracker.dispose();
        await vscode.commands.executeCommand('unikernel.crashTrace.clear');
      }
    },

    'a hidden Memory view reads nothing; shown again, it reads the rows on screen': async () => {
      assert.ok(api && folder);
      const memory = api.memory;
      // Every readMemory request the adapter gets (the view's go through the same channel).
      let reads = 0;
      let onStop: (() => void) | undefined;
      const tracker = vscode.debug.registerDebugAdapterTrackerFactory('unikernel', {
        createDebugAdapterTracker: () => ({
          onWillReceiveMessage: (m: { type?: string; command?: string }) => {
            if (m.type === 'request' && m.command === 'readMemory') reads++;
          },
          onDidSendMessage: (m: { type?: string; event?: string }) => {
            if (m.type === 'event' && m.event === 'stopped') onStop?.();
          },
        }),
      });
      const nextStop = (what: string): Promise<void> =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no stop after ${what} within 60 s`)), 60_000);
          onStop = () => {
            clearTimeout(timer);
            onStop = undefined;
            resolve();
          };
        });
      const bp = new vscode.SourceBreakpoint(new vscode.Location(vscode.Uri.file(join(ws, 'kernel.c')), new vscode.Position(marker(kernelC, 'demo-compute') - 1, 0)));
      vscode.debug.addBreakpoints([bp]);
      let session: vscode.DebugSession | undefined;
      try {
        const stopped = nextStop('the launch');
        assert.ok(await vscode.debug.startDebugging(folder, { type: 'unikernel', request: 'launch', name: 'Host test: memory', kernel: kernelElf, cmdline: 'mode=normal' }));
        await stopped;
        session = await until('the session', () => vscode.debug.activeDebugSession);
        await until('the stopped frame', () => vscode.debug.activeStackItem);
        const panel = await memory.openTyped('counter_ptr', session.id);
        assert.ok(panel, 'the view opened');
        assert.equal(memory.panels.length, 1);
        await until('the view to read its rows', () => reads > 0);
        // Another editor over it in its group: the view is hidden and its webview gone.
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(ws, 'kernel.c')));
        await vscode.window.showTextDocument(doc, { viewColumn: panel.panel.viewColumn, preview: false });
        await until('the view to be hidden', () => !panel.panel.visible);
        reads = 0;
        const stepped = nextStop('Step Over');
        await session.customRequest('next', { threadId: 1 });
        await stepped;
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(reads, 0, 'no reads while hidden');
        panel.reveal();
        await until('the view to read again when shown', () => reads > 0);
        panel.dispose();
        assert.equal(memory.panels.length, 0);
      } finally {
        tracker.dispose();
        vscode.debug.removeBreakpoints([bp]);
        if (session) {
          const id = session.id;
          const ended = new Promise<void>((resolve) => vscode.debug.onDidTerminateDebugSession((s) => s.id === id && resolve()));
          await vscode.debug.stopDebugging(session);
          await ended;
        }
      }
    },
  };

  for (const name of HOST_TESTS) {
    const t0 = Date.now();
    try {
      await tests[name]();
      results.push({ name, ok: true, ms: Date.now() - t0 });
    } catch (err) {
      results.push({ name, ok: false, ms: Date.now() - t0, error: (err as Error).stack ?? String(err) });
    }
  }
  writeFileSync(join(out, 'host-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const failed = results.filter((r) => !r.ok).length;
  if (failed > 0) throw new Error(`${failed} extension-host test(s) failed`);
}
