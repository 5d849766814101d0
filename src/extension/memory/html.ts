/**
 * The Memory view's page: our own markup, styles and script (dist/memoryView.js, put inline), under a
 * Content Security Policy that allows nothing else: the page loads no resource at all, and runs no code
 * but what carries this load's nonce.
 */
import { randomBytes } from 'node:crypto';

const STYLE = `
:root { --row: 1.6em; }
* { box-sizing: border-box; }
body { margin: 0; padding: 0; height: 100vh; display: flex; flex-direction: column; overflow: hidden;
  color: var(--vscode-foreground); background: var(--vscode-editor-background);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
#toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; padding: 6px 8px;
  border-bottom: 1px solid var(--vscode-editorGroup-border, transparent); }
#toolbar .group { display: inline-flex; gap: 2px; align-items: center; }
form { display: inline-flex; gap: 4px; margin: 0; }
input { font: inherit; color: var(--vscode-input-foreground); background: var(--vscode-input-background);
  border: 1px solid var(--vscode-input-border, transparent); padding: 2px 4px; }
input:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
#target { width: 22em; }
button { font: inherit; color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground);
  border: none; padding: 2px 8px; cursor: pointer; border-radius: 2px; }
button:hover:not(:disabled) { background: var(--vscode-button-secondaryHoverBackground); }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
button[aria-pressed="true"] { color: var(--vscode-button-foreground); background: var(--vscode-button-background); }
button:disabled { opacity: 0.5; cursor: default; }
#status, #inspect { padding: 2px 8px; color: var(--vscode-descriptionForeground); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#error { padding: 2px 8px; color: var(--vscode-errorForeground); }
#error:empty { display: none; }
#breakpoints { list-style: none; margin: 0; padding: 0 8px; }
#breakpoints li { display: flex; gap: 8px; align-items: center; padding: 1px 0; }
#breakpoints li.unverified { color: var(--vscode-disabledForeground); }
#breakpoints button { padding: 0 6px; }
#grid { flex: 1; overflow-x: auto; overflow-y: hidden; padding: 4px 8px; outline: none; cursor: default; user-select: none;
  font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
#grid:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.row { display: flex; white-space: pre; height: var(--row); line-height: var(--row); }
.row.head { color: var(--vscode-descriptionForeground); }
.addr { color: var(--vscode-editorLineNumber-foreground); margin-right: 2ch; }
.cells { display: flex; }
.cell, .col { padding: 0 0.5ch; border-radius: 2px; }
.mid { margin-left: 1ch; }
.ascii { margin-left: 2ch; display: flex; }
.unreadable, .pending { color: var(--vscode-disabledForeground); }
.changed { color: var(--vscode-debugTokenExpression-error, #f14c4c); background: var(--vscode-editor-findMatchHighlightBackground); }
.sel { background: var(--vscode-editor-selectionBackground); }
.cursor { outline: 1px solid var(--vscode-editorCursor-foreground, var(--vscode-focusBorder)); outline-offset: -1px; }
.origin { text-decoration: underline; }
.edit { font: inherit; padding: 0; margin: 0; border: none; height: var(--row); }
`;

export function memoryHtml(script: string): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = [`default-src 'none'`, `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${nonce}">${STYLE}</style>
<title>Memory</title>
</head>
<body>
<div id="toolbar" role="toolbar" aria-label="Memory view">
  <form id="goto"><input id="target" aria-label="Address or expression" placeholder="Address or expression (Enter)" spellcheck="false"><button type="submit">Go</button></form>
  <span class="group" role="group" aria-label="Unit">Unit
    <button data-size="1" title="Bytes">1</button><button data-size="2" title="2-byte words (little-endian)">2</button><button data-size="4" title="4-byte words (little-endian)">4</button><button data-size="8" title="8-byte words (little-endian)">8</button>
  </span>
  <span class="group">
    <button id="back" title="Back to the previous address (Alt+Left)">Back</button>
    <button id="follow" title="Go to the address stored in the 8 bytes at the cursor (little-endian)">Follow Pointer</button>
  </span>
  <span class="group">
    <button id="break-write" title="Break when the guest writes the selected bytes">Break on Write</button>
    <button id="break-access" title="Break when the guest reads or writes the selected bytes">Break on Access</button>
  </span>
  <span class="group">
    <button id="page-up" title="Previous page (Page Up)">▲</button><button id="page-down" title="Next page (Page Down)">▼</button>
  </span>
</div>
<div id="status" aria-live="polite"></div>
<div id="error" role="alert"></div>
<ul id="breakpoints" aria-label="Data breakpoints set here"></ul>
<div id="grid" tabindex="0" role="grid" aria-label="Memory"><div id="rows"></div></div>
<div id="inspect"></div>
<script nonce="${nonce}">${script.replace(/<\/(script)/gi, '<\\/$1')}</script>
</body>
</html>`;
}
