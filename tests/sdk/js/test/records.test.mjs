// Record CRUD with files through the SDK: FormData/Blob and plain objects with Files, list
// queries with filter and sort, the images+/images-/replace/clear updates, delete.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import PocketBase from "pocketbase";

import { JPEG, assertStatus, docsCollection, explain, get, rejects, superuserClient, unique, useServer } from "../lib/env.mjs";
import { makePng } from "../lib/images.mjs";

let server, pb, name;
before(async () => {
    server = await useServer();
    pb = await superuserClient(server.url);
    name = unique("records");
    await pb.collections.create(docsCollection(name));
});
after(() => server.stop());

const NAME = (stem, ext) => new RegExp(`^${stem}_[a-z0-9]{10}\\.${ext}$`);
const fileUrl = (record, filename) => pb.files.getURL(record, filename);

/** Assert that the file URL of `filename` on `record` serves exactly `bytes`. */
async function assertServes(record, filename, bytes) {
    const res = await get(fileUrl(record, filename));
    assertStatus(res, 200);
    assert.ok(res.body.equals(bytes), `GET ${res.url}: ${res.body.length} bytes, expected ${bytes.length}`);
}

async function assertGone(record, filename) {
    const res = await get(fileUrl(record, filename));
    assertStatus(res, 404, "after removing the file");
}

test("create with FormData and Blobs stores every file under a normalised name", async () => {
    const png = makePng(40, 30);
    const form = new FormData();
    form.append("title", "from form data");
    form.append("rank", "7");
    form.append("cover", new Blob([png], { type: "image/png" }), "Cover Image.png");
    form.append("images", new Blob([JPEG], { type: "image/jpeg" }), "one.jpg");
    form.append("images", new Blob([png]), "two.png");
    form.append("secret", new Blob(["top secret\n"], { type: "text/plain" }), "notes.txt");

    const record = await pb.collection(name).create(form);

    assert.match(record.id, /^[a-z0-9]{15}$/);
    assert.equal(record.collectionName, name);
    assert.equal(record.title, "from form data");
    assert.equal(record.rank, 7);
    assert.match(record.cover, NAME("cover_image", "png"));
    assert.equal(record.images.length, 2);
    assert.match(record.images[0], NAME("one", "jpg"));
    assert.match(record.images[1], NAME("two", "png"));
    assert.match(record.secret, NAME("notes", "txt"));

    await assertServes(record, record.cover, png);
    await assertServes(record, record.images[0], JPEG);
    await assertServes(record, record.images[1], png);
});

test("create with a plain object holding Files sends them as multipart, other values as JSON", async () => {
    const record = await pb.collection(name).create({
        title: "from a plain object",
        rank: 3,
        meta: { tags: ["a", "b"], nested: { ok: true } },
        cover: new File([JPEG], "photo.jpg", { type: "image/jpeg" }),
        images: [new File([makePng(10, 10)], "a.png"), new File([makePng(20, 10)], "b.png")],
    });

    assert.equal(record.title, "from a plain object");
    assert.equal(record.rank, 3);
    assert.deepEqual(record.meta, { tags: ["a", "b"], nested: { ok: true } });
    assert.match(record.cover, NAME("photo", "jpg"));
    assert.equal(record.images.length, 2);
    assert.match(record.images[0], /^a[a-z0-9]{10}_[a-z0-9]{10}\.png$/, "short names get padded");
    assert.equal(record.secret, "");

    const fetched = await pb.collection(name).getOne(record.id);
    assert.deepEqual(fetched.images, record.images);
    assert.deepEqual(fetched.meta, record.meta);
    await assertServes(record, record.cover, JPEG);
});

test("create reports field errors: a missing required field and a disallowed mime type", async () => {
    let err = await rejects(pb.collection(name).create({ rank: 1 }));
    assert.equal(err.status, 400, explain(err));
    assert.equal(err.response.data.title.code, "validation_required");

    err = await rejects(pb.collection(name).create({ title: "x", cover: new File(["plain text"], "c.png") }));
    assert.equal(err.status, 400, explain(err));
    assert.equal(err.response.data.cover.code, "validation_invalid_mime_type");
});

test("getList, getFullList and getFirstListItem page, sort and filter", async () => {
    const list = unique("listing");
    await pb.collections.create(docsCollection(list));
    const titles = ["delta", "alpha", "echo", "charlie", "bravo"];
    for (const [i, title] of titles.entries()) {
        await pb.collection(list).create({ title, rank: (i * 3) % 5 }); // ranks 0 3 1 4 2
    }

    const page1 = await pb.collection(list).getList(1, 2, { sort: "title" });
    assert.equal(page1.page, 1);
    assert.equal(page1.perPage, 2);
    assert.equal(page1.totalItems, 5);
    assert.equal(page1.totalPages, 3);
    assert.deepEqual(page1.items.map((r) => r.title), ["alpha", "bravo"]);
    const page3 = await pb.collection(list).getList(3, 2, { sort: "title" });
    assert.deepEqual(page3.items.map((r) => r.title), ["echo"]);

    const all = await pb.collection(list).getFullList({ sort: "-rank" });
    assert.deepEqual(all.map((r) => r.rank), [4, 3, 2, 1, 0]);
    const batched = await pb.collection(list).getFullList({ batch: 2, sort: "rank,title" });
    assert.deepEqual(batched.map((r) => r.title), ["delta", "echo", "bravo", "alpha", "charlie"]);

    const filtered = await pb.collection(list).getList(1, 10, { filter: "rank >= 2", sort: "-title" });
    assert.equal(filtered.totalItems, 3);
    assert.deepEqual(filtered.items.map((r) => r.title), ["charlie", "bravo", "alpha"]);

    const first = await pb.collection(list).getFirstListItem(pb.filter("title = {:t}", { t: "charlie" }));
    assert.equal(first.title, "charlie");
    assert.equal(first.rank, 4);

    const highest = await pb.collection(list).getFirstListItem("rank >= 1", { sort: "-rank" });
    assert.equal(highest.title, "charlie");
    const lowest = await pb.collection(list).getFirstListItem("rank >= 1", { sort: "rank" });
    assert.equal(lowest.title, "echo");

    const missing = await rejects(pb.collection(list).getFirstListItem('title = "zulu"'));
    assert.equal(missing.status, 404, explain(missing));
});

test("update with images+ appends uploads and images- removes files by name", async () => {
    const [one, two, three] = [makePng(11, 11), makePng(12, 12), makePng(13, 13)];
    let record = await pb.collection(name).create({ title: "modifiers", images: [new File([one], "one.png")] });
    const [first] = record.images;

    record = await pb.collection(name).update(record.id, { "images+": [new File([two], "two.png"), new File([three], "three.png")] });
    assert.equal(record.images.length, 3);
    assert.equal(record.images[0], first);
    assert.match(record.images[1], NAME("two", "png"));
    assert.match(record.images[2], NAME("three", "png"));
    await assertServes(record, record.images[2], three);

    const removed = record.images[1];
    record = await pb.collection(name).update(record.id, { "images-": [removed] });
    assert.deepEqual(record.images, [first, record.images[1]]);
    assert.match(record.images[1], NAME("three", "png"));
    await assertGone(record, removed);
    await assertServes(record, first, one);
});

test("update keeps listed names and adds Files given together under the plain key", async () => {
    const png = makePng(14, 14);
    let record = await pb.collection(name).create({
        title: "mixed",
        images: [new File([png], "keep.png"), new File([png], "drop.png")],
    });
    const [keep, drop] = record.images;

    record = await pb.collection(name).update(record.id, { images: [keep, new File([JPEG], "new.jpg")] });
    assert.equal(record.images.length, 2);
    assert.equal(record.images[0], keep);
    assert.match(record.images[1], NAME("new", "jpg"));
    await assertGone(record, drop);
    await assertServes(record, record.images[1], JPEG);
});

test("update with new Files under the plain key replaces every old file", async () => {
    const old = makePng(15, 15);
    let record = await pb.collection(name).create({
        title: "replace",
        cover: new File([old], "old-cover.png"),
        images: [new File([old], "old1.png"), new File([old], "old2.png")],
    });
    const before = { cover: record.cover, images: record.images };

    const fresh = makePng(16, 16);
    record = await pb.collection(name).update(record.id, {
        cover: new File([JPEG], "new-cover.jpg"),
        images: [new File([fresh], "fresh.png")],
    });
    assert.match(record.cover, NAME("new_cover", "jpg"));
    assert.equal(record.images.length, 1);
    assert.match(record.images[0], NAME("fresh", "png"));
    await assertServes(record, record.cover, JPEG);
    await assertServes(record, record.images[0], fresh);
    for (const gone of [before.cover, ...before.images]) await assertGone(record, gone);
});

test("update with null or an empty list clears file fields and deletes the files", async () => {
    const png = makePng(17, 17);
    let record = await pb.collection(name).create({
        title: "clear",
        cover: new File([png], "cover.png"),
        images: [new File([png], "x1.png"), new File([png], "x2.png")],
        secret: new File(["s"], "secret.txt"),
    });
    const old = [record.cover, ...record.images];

    record = await pb.collection(name).update(record.id, { cover: null, images: [] });
    assert.equal(record.cover, "");
    assert.deepEqual(record.images, []);
    assert.match(record.secret, NAME("secret", "txt"));
    for (const gone of old) await assertGone(record, gone);

    record = await pb.collection(name).update(record.id, { secret: "" });
    assert.equal(record.secret, "");
    const fetched = await pb.collection(name).getOne(record.id);
    assert.deepEqual([fetched.cover, fetched.images, fetched.secret], ["", [], ""]);
});

test("delete removes the record and its files", async () => {
    const png = makePng(18, 18);
    const record = await pb.collection(name).create({ title: "doomed", images: [new File([png], "doomed.png")] });
    await assertServes(record, record.images[0], png);

    assert.equal(await pb.collection(name).delete(record.id), true);
    const err = await rejects(pb.collection(name).getOne(record.id));
    assert.equal(err.status, 404, explain(err));
    await assertGone(record, record.images[0]);
    const again = await rejects(pb.collection(name).delete(record.id));
    assert.equal(again.status, 404, explain(again));
});

test("auto cancellation aborts a duplicated pending request and lets the latest one finish", async () => {
    const client = new PocketBase(server.url);
    const [older, newer] = await Promise.allSettled([
        client.collection(name).getList(1, 1),
        client.collection(name).getList(1, 1),
    ]);
    assert.equal(older.status, "rejected");
    assert.equal(older.reason.isAbort, true);
    assert.equal(newer.status, "fulfilled");
    assert.ok(newer.value.totalItems >= 1);

    const both = await Promise.all([
        client.collection(name).getList(1, 1, { requestKey: null }),
        client.collection(name).getList(1, 1, { requestKey: null }),
    ]);
    assert.equal(both[0].totalItems, both[1].totalItems);
});
