// The fingerprint of everything that goes into the Run Job image: build.sh stores it as a label and
// the image test compares it, so a test never passes against an image built from older code.
const { createHash } = require('crypto');
const { readdirSync, readFileSync, statSync } = require('fs');
const { join, relative } = require('path');

const repo = join(__dirname, '..', '..');
const inputs = [
  'package-lock.json',
  'packages/core/package.json',
  'packages/core/src',
  'stage-service/package.json',
  'stage-service/src',
  'stage-service/Dockerfile',
  'stage-service/image/build.sh',
  'stage-service/image/prune-app.sh',
  'stage-service/image/rootfs-hook.sh',
];

function files(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => files(join(path, name)))
    .filter((file) => !/\.test\.tsx?$/.test(file));
}

function sourceHash() {
  const hash = createHash('sha256');
  for (const file of inputs.flatMap((input) => files(join(repo, input)))) {
    hash.update(relative(repo, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

module.exports = { sourceHash };
if (require.main === module) process.stdout.write(`${sourceHash()}\n`);
