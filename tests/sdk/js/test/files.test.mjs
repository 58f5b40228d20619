// files.getURL with thumb, download and token, each URL fetched: bytes, headers, image sizes.
// files.getToken as the superuser; protected files behind a view rule that only superusers pass.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import PocketBase from "pocketbase";

import { JPEG, SUPERUSERS_ID, assertStatus, docsCollection, explain, get, jwtClaims, rejects, superuserClient, unique, useServer } from "../lib/env.mjs";
import { imageSize, makePng } from "../lib/images.mjs";

const PNG = makePng(400, 300);
const TEXT = Buffer.from("hello, files\n");

let server, pb, record, locked;
before(async () => {
    server = await useServer();
    pb = await superuserClient(server.url);
    const name = unique("files");
    await pb.collections.create(docsCollection(name));
    record = await pb.collection(name).create({
        title: "pictures",
        cover: new File([PNG], "cover.png"),
        images: [new File([JPEG], "photo.jpg"), new File([PNG], "tiles.png"), new File([TEXT], "readme.txt")],
        secret: new File([TEXT], "secret.txt"),
    });
    const lockedName = unique("locked");
    await pb.collections.create(docsCollection(lockedName, { listRule: null, viewRule: null }));
    locked = await pb.collection(lockedName).create({ title: "locked", secret: new File([PNG], "hidden.png") });
});
after(() => server.stop());

const [photo, tiles, readme] = [0, 1, 2].map((i) => () => record.images[i]);

test("getURL builds the files API path from collectionId, id and the file name", () => {
    assert.equal(pb.files.getURL(record, record.cover), `${server.url}/api/files/${record.collectionId}/${record.id}/${record.cover}`);
    assert.equal(
        pb.files.getURL(record, record.cover, { thumb: "100x100", download: true }),
        `${server.url}/api/files/${record.collectionId}/${record.id}/${record.cover}?thumb=100x100&download=true`,
    );
    assert.equal(pb.files.getURL(record, record.cover, { download: false }), pb.files.getURL(record, record.cover));
    assert.equal(pb.files.getURL(record, ""), "");
});

test("a plain file URL serves the original bytes inline with PocketBase's headers", async () => {
    const res = await get(pb.files.getURL(record, record.cover));
    assertStatus(res, 200);
    assert.ok(res.body.equals(PNG));
    assert.equal(res.headers.get("content-type"), "image/png");
    assert.equal(res.headers.get("content-length"), String(PNG.length));
    assert.equal(res.headers.get("content-disposition"), `inline; filename="${record.cover}"`);
    assert.equal(res.headers.get("cache-control"), "max-age=2592000, stale-while-revalidate=86400");
    assert.equal(res.headers.get("content-security-policy"), "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox");
    assert.equal(res.headers.get("accept-ranges"), "bytes");
    assert.equal(res.headers.get("x-frame-options"), null);
    assert.ok(!Number.isNaN(Date.parse(res.headers.get("last-modified"))));
    assert.deepEqual(imageSize(res.body), { type: "png", width: 400, height: 300 });

    const jpeg = await get(pb.files.getURL(record, photo()));
    assertStatus(jpeg, 200);
    assert.ok(jpeg.body.equals(JPEG));
    assert.equal(jpeg.headers.get("content-type"), "image/jpeg");
});

test("a text file is served as an attachment with its sniffed type", async () => {
    const res = await get(pb.files.getURL(record, readme()));
    assertStatus(res, 200);
    assert.ok(res.body.equals(TEXT));
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(res.headers.get("content-disposition"), `attachment; filename="${readme()}"`);
});

test("download: true turns the disposition into an attachment, bytes unchanged", async () => {
    const res = await get(pb.files.getURL(record, record.cover, { download: true }));
    assertStatus(res, 200);
    assert.ok(res.body.equals(PNG));
    assert.equal(res.headers.get("content-disposition"), `attachment; filename="${record.cover}"`);
});

const THUMBS = [
    // field thumbs of `images`, each applied to the 400x300 PNG and the 640x427 JPEG
    ["100x100", [100, 100], [100, 100]],
    ["50x50", [50, 50], [50, 50]],
    ["0x80", [107, 80], [120, 80]],
    ["120x0", [120, 90], [120, 80]],
    ["300x300f", [300, 225], [300, 200]],
];

for (const [thumb, pngSize, jpegSize] of THUMBS) {
    test(`thumb ${thumb} resizes PNGs and JPEGs to the reference geometry`, async () => {
        for (const [file, type, [width, height]] of [[tiles(), "png", pngSize], [photo(), "jpeg", jpegSize]]) {
            const res = await get(pb.files.getURL(record, file, { thumb }));
            assertStatus(res, 200);
            assert.equal(res.headers.get("content-type"), `image/${type}`, res.url);
            assert.equal(res.headers.get("content-disposition"), `inline; filename="${thumb}_${file}"`);
            assert.deepEqual(imageSize(res.body), { type, width, height }, res.url);
            const again = await get(res.url);
            assert.ok(again.body.equals(res.body), `the cached thumb of ${res.url} differs from the first one`);
        }
    });
}

test("a thumb size the field does not allow serves the original", async () => {
    for (const thumb of ["77x77", "50x50"]) {
        const file = thumb === "50x50" ? record.cover : tiles(); // 50x50 belongs to `images`, not `cover`
        const res = await get(pb.files.getURL(record, file, { thumb }));
        assertStatus(res, 200);
        assert.ok(res.body.equals(PNG), `${res.url} did not serve the original`);
        assert.equal(res.headers.get("content-disposition"), `inline; filename="${file}"`);
    }
});

test("thumb and download together give the thumb as an attachment", async () => {
    const res = await get(pb.files.getURL(record, photo(), { thumb: "50x50", download: true }));
    assertStatus(res, 200);
    assert.equal(res.headers.get("content-disposition"), `attachment; filename="50x50_${photo()}"`);
    assert.deepEqual(imageSize(res.body), { type: "jpeg", width: 50, height: 50 });
});

test("a non-image file ignores thumb and serves the original", async () => {
    const res = await get(pb.files.getURL(record, readme(), { thumb: "100x100" }));
    assertStatus(res, 200);
    assert.ok(res.body.equals(TEXT));
});

test("getToken as the superuser returns a file token for the superuser record", async () => {
    const token = await pb.files.getToken();
    const claims = jwtClaims(token);
    assert.equal(claims.type, "file");
    assert.equal(claims.id, pb.authStore.record.id);
    assert.equal(claims.collectionId, SUPERUSERS_ID);
    const lifetime = claims.exp - Date.now() / 1000;
    assert.ok(lifetime > 170 && lifetime <= 185, `file token lifetime ${lifetime}s`);
});

test("getToken without auth is rejected with 401", async () => {
    const err = await rejects(new PocketBase(server.url).files.getToken());
    assert.equal(err.status, 401, explain(err));
});

test("a protected file on a public collection needs no token", async () => {
    const res = await get(pb.files.getURL(record, record.secret));
    assertStatus(res, 200);
    assert.ok(res.body.equals(TEXT));
});

test("a protected file behind a superusers-only view rule needs the superuser's file token", async () => {
    const guest = await get(pb.files.getURL(locked, locked.secret));
    assertStatus(guest, 404);
    assert.equal(JSON.parse(guest.body).message, "The requested resource wasn't found.");

    const authHeaderOnly = await get(pb.files.getURL(locked, locked.secret), { headers: { Authorization: pb.authStore.token } });
    assertStatus(authHeaderOnly, 404, "the Authorization header does not open protected files");
    const authTokenAsParam = await get(pb.files.getURL(locked, locked.secret, { token: pb.authStore.token }));
    assertStatus(authTokenAsParam, 404, "an auth token is not a file token");

    const token = await pb.files.getToken();
    const ok = await get(pb.files.getURL(locked, locked.secret, { token }));
    assertStatus(ok, 200);
    assert.ok(ok.body.equals(PNG));
    assert.equal(ok.headers.get("content-disposition"), `inline; filename="${locked.secret}"`);

    const thumb = await get(pb.files.getURL(locked, locked.secret, { thumb: "100x100", token }));
    assertStatus(thumb, 200);
    assert.deepEqual(imageSize(thumb.body), { type: "png", width: 100, height: 100 });

    const download = await get(pb.files.getURL(locked, locked.secret, { token, download: true }));
    assert.equal(download.headers.get("content-disposition"), `attachment; filename="${locked.secret}"`);
});

test("a wrong file name or record id on a file URL answers 404", async () => {
    const wrongName = await get(pb.files.getURL(record, "nope_0123456789.png"));
    assertStatus(wrongName, 404);
    const wrongRecord = await get(pb.files.getURL({ ...record, id: "aaaaaaaaaaaaaaa" }, record.cover));
    assertStatus(wrongRecord, 404);
});
