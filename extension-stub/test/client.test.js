'use strict';
// Drives the real codemux binary through vscode-jsonrpc, as the extension
// does. CODEMUX_BIN names the binary (built by `go build ./cmd/codemux`).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const rpc = require('vscode-jsonrpc/node');
const { CodemuxClient } = require('../client');

const binary = process.env.CODEMUX_BIN || path.resolve(__dirname, '..', '..', 'codemux');

function newHome() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cmx'));
  return home;
}

function env(home) {
  return { ...process.env, CODEMUX_HOME: home, CODEMUX_IDLE_TIMEOUT: '5s' };
}

function killDaemons(home) {
  const run = path.join(home, 'run');
  if (!fs.existsSync(run)) return;
  for (const f of fs.readdirSync(run)) {
    if (!f.endsWith('.lock')) continue;
    const pid = parseInt(fs.readFileSync(path.join(run, f), 'utf8'), 10);
    if (pid > 0) {
      try { process.kill(pid, 'SIGKILL'); } catch (_) { /* already gone */ }
    }
  }
}

for (const mode of ['standalone', 'daemon']) {
  test(`lifecycle through ${mode}`, async (t) => {
    const home = newHome();
    t.after(() => killDaemons(home));
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ws'));
    const client = new CodemuxClient({
      binary,
      args: mode === 'standalone' ? ['--standalone'] : [],
      env: env(home),
    });
    const init = await client.start([ws], 'node-test');
    assert.equal(init.serverInfo.name, 'codemux');
    assert.equal(init.capabilities.workspace.workspaceFolders.supported, true);

    const st = await client.status();
    assert.ok(st.pid > 0);
    assert.ok(st.clients.some((c) => c.name === 'node-test'), JSON.stringify(st.clients));
    assert.ok(st.folders.some((f) => f.uri.endsWith(path.basename(ws))), JSON.stringify(st.folders));
    if (mode === 'daemon') assert.notEqual(st.socket, undefined);

    await assert.rejects(
      client.connection.sendRequest('codemux/definitelyNot', {}),
      (err) => err.code === rpc.ErrorCodes.MethodNotFound,
    );
    await assert.rejects(
      client.connection.sendRequest('codemux/search', [1, 2]),
      (err) => err.code === rpc.ErrorCodes.InvalidParams,
    );

    await client.didSave(path.join(ws, 'main.go'));
    const { code } = await client.stop();
    assert.equal(code, 0, 'server exits 0 after shutdown + exit');
  });
}

test('search answers from a real index; cancellation reaches the daemon', async (t) => {
  const home = newHome();
  t.after(() => killDaemons(home));
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ws'));
  fs.writeFileSync(path.join(ws, 'util.go'),
    'package util\n\n// ReverseString returns s with its runes in reverse order.\nfunc ReverseString(s string) string {\n\tr := []rune(s)\n\tfor i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {\n\t\tr[i], r[j] = r[j], r[i]\n\t}\n\treturn string(r)\n}\n');
  const client = new CodemuxClient({ binary, env: env(home) });
  await client.start([ws], 'node-test');

  const res = await client.search('reverse a string');
  assert.equal(res.results[0].path, 'util.go');
  assert.equal(res.results[0].symbol, 'ReverseString');
  assert.equal(res.results[0].startLine, 3);

  // Cancel a long index of the Go standard library's net package after
  // its first progress report: the daemon answers RequestCancelled.
  const goroot = require('node:child_process').execSync('go env GOROOT').toString().trim();
  const big = path.join(goroot, 'src', 'net');
  const source = new rpc.CancellationTokenSource();
  let reports = 0;
  client.onProgress((p) => {
    if (p.token === 'cancel-me' && p.value.kind === 'report' && reports++ === 0) source.cancel();
  });
  await assert.rejects(
    client.index(big, { full: true, workDoneToken: 'cancel-me' }, source.token),
    (err) => err.code === -32800, // LSP RequestCancelled
  );
  assert.ok(reports > 0, 'progress was reported before the cancel');

  // The daemon keeps serving.
  const st = await client.status();
  assert.ok(st.folders.length >= 1);
  const { code } = await client.stop();
  assert.equal(code, 0);
});
