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
