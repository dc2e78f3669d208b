// Draws Timebox's icons and writes them as PNGs under resources/: the tray glyph in three states (idle,
// active, attention) as macOS template images and as coloured images for Windows and Linux, each at 1x and
// @2x, and the 512×512 app icon. Plain Node (node:zlib), no browser: `node scripts/make-icons.mjs`.
//
// Every shape is a signed distance field sampled several times per pixel, so edges are anti-aliased at any
// size. The glyph is a rounded box (the "box" of Timebox) holding a clock's two hands.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLES = 4; // per axis: 16 samples a pixel

// ── PNG ──────────────────────────────────────────────────────────────────────────────────────────

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An 8-bit RGBA PNG from `rgba` (width × height × 4 bytes, straight alpha). */
function png(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(6, 9); // colour type: RGBA
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0; // filter: none
    rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ── Shapes (distance < 0 inside), in a 16-unit design space ─────────────────────────────────────

const roundBox = (cx, cy, halfWidth, halfHeight, radius) => (x, y) => {
  const qx = Math.abs(x - cx) - halfWidth + radius;
  const qy = Math.abs(y - cy) - halfHeight + radius;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
};

const circle = (cx, cy, radius) => (x, y) => Math.hypot(x - cx, y - cy) - radius;

/** A line from (ax, ay) to (bx, by) with round ends, `width` wide. */
const stroke = (ax, ay, bx, by, width) => (x, y) => {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - ax - t * dx, y - ay - t * dy) - width / 2;
};

const outline = (shape, width) => (x, y) => Math.abs(shape(x, y)) - width / 2;
const union =
  (...shapes) =>
  (x, y) =>
    Math.min(...shapes.map((shape) => shape(x, y)));
const minus = (shape, cut) => (x, y) => Math.max(shape(x, y), -cut(x, y));

// ── The glyph ────────────────────────────────────────────────────────────────────────────────────

const box = roundBox(8, 8.5, 6.25, 6.25, 2.2);
const hands = union(stroke(8, 8.5, 8, 4.9, 1.5), stroke(8, 8.5, 10.9, 8.5, 1.5));
const badge = circle(13, 3, 2.6);
const badgeGap = circle(13, 3, 3.9);

/** Each state as layers painted in order: [shape, colour key]. */
const GLYPHS = {
  // An empty box: nothing is active.
  idle: [[union(outline(box, 1.5), hands), 'glyph']],
  // A full box, the hands cut out: access is live.
  active: [[minus(box, hands), 'glyph']],
  // The box with a dot: an approval waits, a grant ends soon, or sign-in is needed.
  attention: [
    [minus(union(outline(box, 1.5), hands), badgeGap), 'glyph'],
    [badge, 'badge'],
  ],
};

/** macOS template images are black with alpha; the menu bar recolours them for light and dark. */
const TEMPLATE = { glyph: [0, 0, 0], badge: [0, 0, 0] };
/** Windows and Linux panels can be light or dark: mid-tones that read on both. */
const COLOURED = {
  idle: { glyph: [0x8a, 0x94, 0xa6] },
  active: { glyph: [0x1f, 0xa9, 0x71] },
  attention: { glyph: [0x8a, 0x94, 0xa6], badge: [0xf0, 0x9a, 0x16] },
};

/**
 * Paints layers of [shape, colour] over a transparent square of `size` pixels, `unitsWide` design units
 * across. A colour is [r, g, b], or a function of the design-space point that returns one.
 */
function render(size, layers, unitsWide = 16) {
  const rgba = Buffer.alloc(size * size * 4);
  const scale = unitsWide / size;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let [r, g, b, a] = [0, 0, 0, 0];
      for (const [shape, paint] of layers) {
        let covered = 0;
        for (let sy = 0; sy < SAMPLES; sy++) {
          for (let sx = 0; sx < SAMPLES; sx++) {
            const x = (px + (sx + 0.5) / SAMPLES) * scale;
            const y = (py + (sy + 0.5) / SAMPLES) * scale;
            if (shape(x, y) <= 0) covered++;
          }
        }
        const alpha = covered / (SAMPLES * SAMPLES);
        if (alpha === 0) continue;
        const rgb = typeof paint === 'function' ? paint((px + 0.5) * scale, (py + 0.5) * scale) : paint;
        // "Over" compositing, straight alpha.
        const outAlpha = alpha + a * (1 - alpha);
        const mix = (top, bottom) => (top * alpha + bottom * a * (1 - alpha)) / outAlpha;
        [r, g, b, a] = [mix(rgb[0], r), mix(rgb[1], g), mix(rgb[2], b), outAlpha];
      }
      const offset = (py * size + px) * 4;
      rgba[offset] = Math.round(r);
      rgba[offset + 1] = Math.round(g);
      rgba[offset + 2] = Math.round(b);
      rgba[offset + 3] = Math.round(a * 255);
    }
  }
  return png(size, size, rgba);
}

function write(relativePath, bytes) {
  const path = join(ROOT, relativePath);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  console.log(`wrote ${relativePath} (${bytes.length} bytes)`);
}

// Tray: 16 px at 1x (macOS menu bar and the Windows notification area at 100 %), 32 px at @2x.
for (const [state, layers] of Object.entries(GLYPHS)) {
  for (const [suffix, size] of [
    ['', 16],
    ['@2x', 32],
  ]) {
    const template = layers.map(([shape, key]) => [shape, TEMPLATE[key]]);
    const coloured = layers.map(([shape, key]) => [shape, COLOURED[state][key]]);
    write(`resources/tray/${state}Template${suffix}.png`, render(size, template));
    write(`resources/tray/${state}${suffix}.png`, render(size, coloured));
  }
}

// App icon: the active glyph in white on a rounded square shaded from indigo to teal, 512 px.
{
  const unitsWide = 20; // the glyph's 16 units, centred with a margin
  const tile = roundBox(10, 10, 9.2, 9.2, 4.2);
  const top = [0x3b, 0x4c, 0xca];
  const bottom = [0x12, 0x9e, 0x8f];
  const shade = (_x, y) => top.map((channel, index) => channel + ((bottom[index] - channel) * y) / unitsWide);
  const glyph = (x, y) => minus(box, hands)(x - 2, y - 2.5);
  write(
    'resources/icon.png',
    render(
      512,
      [
        [tile, shade],
        [glyph, [0xff, 0xff, 0xff]],
      ],
      unitsWide,
    ),
  );
}
