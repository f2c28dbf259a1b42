/**
 * The plugin bundle Gate downloads (node only, no browser): its layout is what kork's
 * PluginBundleExtractor expands for Deck, and its bytes (hence plugins.json's sha512sum) depend
 * only on index.js, not on the time or the machine's time zone.
 */
import * as zlib from 'zlib';

const { makeBundle, FIXED_DATE } = require('../../scripts/package.js') as { makeBundle(indexJs: Buffer): Promise<Buffer>; FIXED_DATE: Date };

interface Entry {
  name: string;
  method: number;
  dosDate: number;
  data: Buffer;
}

/** Reads a zip through its central directory (enough for the two archives here). */
function readZip(zip: Buffer): Entry[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(offset + 10);
    const dosDate = zip.readUInt16LE(offset + 14);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const local = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataStart, dataStart + compressedSize);
    entries.push({ name, method, dosDate, data: method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw) });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

describe('the plugin bundle', () => {
  const indexJs = Buffer.from('export const plugin = { stages: [] };\n');

  it('is a bundle with deck.zip, which has index.js at its root', async () => {
    const outer = readZip(await makeBundle(indexJs));
    expect(outer.map((e) => e.name)).toEqual(['deck.zip']);
    const inner = readZip(outer[0].data);
    expect(inner.map((e) => e.name)).toEqual(['index.js']);
    expect(inner[0].data.equals(indexJs)).toBe(true);
    const year = 1980 + (inner[0].dosDate >> 9);
    expect(year).toBe(FIXED_DATE.getUTCFullYear());
  });

  it('is byte-for-byte the same whenever and wherever it is built', async () => {
    const first = await makeBundle(indexJs);
    const zone = process.env.TZ;
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      expect((await makeBundle(indexJs)).equals(first)).toBe(true);
    } finally {
      process.env.TZ = zone;
    }
    expect((await makeBundle(Buffer.from('export const plugin = {};\n'))).equals(first)).toBe(false);
  });
});
