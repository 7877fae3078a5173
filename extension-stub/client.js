'use strict';
// The part of the extension that does not need VS Code: it starts
// `codemux serve --stdio`, speaks JSON-RPC to it through vscode-jsonrpc and
// wraps the codemux methods. extension.js adds the editor glue.

const { spawn } = require('node:child_process');
const { pathToFileURL } = require('node:url');
const rpc = require('vscode-jsonrpc/node');

class CodemuxClient {
  /**
   * @param {object} opts
   * @param {string} opts.binary path to the codemux binary
   * @param {string[]} [opts.args] extra arguments after `serve --stdio`
   * @param {NodeJS.ProcessEnv} [opts.env]
   * @param {(line: string) => void} [opts.log] receives the server's stderr
   */
  constructor(opts) {
    this.opts = opts;
    this.proc = null;
    this.connection = null;
    this.exited = null;
  }

  /** Start the server process and run the LSP initialize handshake. */
  async start(workspaceFolders, clientName = 'vscode-codemux') {
    const args = ['serve', '--stdio', ...(this.opts.args || [])];
    this.proc = spawn(this.opts.binary, args, {
      env: this.opts.env || process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => resolve({ code, signal }));
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (d) => this.opts.log && this.opts.log(d));
    this.connection = rpc.createMessageConnection(
      new rpc.StreamMessageReader(this.proc.stdout),
      new rpc.StreamMessageWriter(this.proc.stdin),
    );
    this.connection.onRequest('window/workDoneProgress/create', () => null);
    this.connection.listen();
    return this.connection.sendRequest('initialize', {
      processId: process.pid,
      clientInfo: { name: clientName, version: '0.1.0' },
      workspaceFolders: workspaceFolders.map((f) => ({
        uri: pathToFileURL(f).toString(),
        name: require('node:path').basename(f),
      })),
      capabilities: { window: { workDoneProgress: true } },
    }).then(async (result) => {
      await this.connection.sendNotification('initialized', {});
      return result;
    });
  }

  /**
   * Send one request with object params. vscode-jsonrpc treats extra
   * arguments as positional params, so the token is passed only when set.
   */
  request(method, params, token) {
    return token
      ? this.connection.sendRequest(method, params, token)
      : this.connection.sendRequest(method, params);
  }

  status(token) {
    return this.request('codemux/status', {}, token);
  }

  search(query, opts = {}, token) {
    return this.request('codemux/search', { query, ...opts }, token);
  }

  ask(question, opts = {}, token) {
    return this.request('codemux/ask', { question, ...opts }, token);
  }

  index(folder, opts = {}, token) {
    return this.request('codemux/index', { folder, ...opts }, token);
  }

  /** Tell the daemon a file was saved so it reindexes it at once. */
  didSave(file) {
    return this.connection.sendNotification('textDocument/didSave', {
      textDocument: { uri: pathToFileURL(file).toString() },
    });
  }

  onProgress(handler) {
    return this.connection.onNotification('$/progress', handler);
  }

  /** LSP shutdown then exit; resolves with the process's exit status. */
  async stop() {
    if (!this.connection) return null;
    try {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    } finally {
      this.connection.dispose();
      this.proc.stdin.end();
    }
    return this.exited;
  }
}

module.exports = { CodemuxClient };
