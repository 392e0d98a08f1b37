// Refuses to go on when scripts would run on a Node older than the repo needs. The repository
// brings its own Node 24 (the pinned `node` dev dependency puts it first on PATH for package
// scripts), so this only fires when someone bypasses pnpm or the install did not finish.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  console.error(
    `script-harness needs Node >= 22.15 but this is Node ${process.versions.node}.\n` +
      'Run scripts through pnpm after `npx pnpm@12.21.0 install` (the repo brings Node 24), ' +
      'or install Node 24.',
  );
  process.exit(1);
}
