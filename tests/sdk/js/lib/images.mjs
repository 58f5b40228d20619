// Test images without native dependencies: a tiny PNG encoder, and PNG/JPEG size readers that
// parse the PNG IHDR chunk and the JPEG SOFn segment.

import { crc32, deflateSync } from "node:zlib";

function chunk(type, data) {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, "ascii");
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
}

/** An RGB PNG of width x height in 10-pixel tiles of changing colour, so thumbs have something to resample. */
export function makePng(width, height) {
    const row = 1 + width * 3;
    const raw = Buffer.alloc(row * height);
    for (let y = 0; y < height; y++) {
        raw[y * row] = 0; // filter: none
        for (let x = 0; x < width; x++) {
            const p = y * row + 1 + x * 3;
            raw[p] = Math.floor(x / 10) * 20;
            raw[p + 1] = Math.floor(y / 10) * 20;
            raw[p + 2] = 128;
        }
    }
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, no filter method, no interlace
    return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk("IHDR", ihdr),
        chunk("IDAT", deflateSync(raw)),
        chunk("IEND", Buffer.alloc(0)),
    ]);
}

/** { type: "png" | "jpeg", width, height } read from the image's header bytes. */
export function imageSize(bytes) {
    const b = Buffer.from(bytes);
    if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString("ascii", 12, 16) === "IHDR") {
        return { type: "png", width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
    }
    if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
        let i = 2;
        while (i + 9 < b.length) {
            if (b[i] !== 0xff) throw new Error(`bad JPEG marker at ${i}`);
            const marker = b[i + 1];
            if (marker === 0xff) { i++; continue; } // fill byte
            if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) { i += 2; continue; } // no length
            const isSof = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
            if (isSof) return { type: "jpeg", width: b.readUInt16BE(i + 7), height: b.readUInt16BE(i + 5) };
            i += 2 + b.readUInt16BE(i + 2);
        }
        throw new Error("no SOF segment in JPEG");
    }
    throw new Error(`not a PNG or JPEG (starts ${b.subarray(0, 8).toString("hex")})`);
}
