'use strict';
// VS Code glue: one CodemuxClient per window, commands that call it, and
// save notifications forwarded so the index is fresh on every save.

const vscode = require('vscode');
const { CodemuxClient } = require('./client');

let client;

async function activate(context) {
  const output = vscode.window.createOutputChannel('codemux');
  const binary = vscode.workspace.getConfiguration('codemux').get('path') || 'codemux';
  client = new CodemuxClient({ binary, log: (l) => output.append(l) });
  const folders = (vscode.workspace.workspaceFolders || []).map((f) => f.uri.fsPath);
  try {
    await client.start(folders);
  } catch (err) {
    vscode.window.showErrorMessage(`codemux could not start: ${err.message}`);
    return;
  }

  context.subscriptions.push(
    vscode.workspace.onDidSaveTextDocument((doc) => {
      if (doc.uri.scheme === 'file') client.didSave(doc.uri.fsPath);
    }),
    vscode.commands.registerCommand('codemux.search', async () => {
      const query = await vscode.window.showInputBox({ prompt: 'Search code' });
      if (!query) return;
      const res = await client.search(query, { k: 20 });
      const pick = await vscode.window.showQuickPick(
        res.results.map((r) => ({
          label: r.symbol || r.path,
          description: `${r.path}:${r.startLine}`,
          detail: r.snippet,
          r,
        })),
      );
      if (!pick) return;
      const folder = vscode.Uri.parse(pick.r.folder);
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, pick.r.path));
      const line = pick.r.startLine - 1;
      await vscode.window.showTextDocument(doc, { selection: new vscode.Range(line, 0, line, 0) });
    }),
    vscode.commands.registerCommand('codemux.ask', async () => {
      const question = await vscode.window.showInputBox({ prompt: 'Ask about this code' });
      if (!question) return;
      const res = await client.ask(question, {});
      output.appendLine(res.answer);
      output.show(true);
    }),
    vscode.commands.registerCommand('codemux.reindex', async () => {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'codemux: indexing', cancellable: true },
        async (_progress, token) => {
          for (const f of folders) await client.index(f, { full: true }, token);
        },
      );
    }),
  );
}

async function deactivate() {
  if (client) await client.stop();
}

module.exports = { activate, deactivate };
