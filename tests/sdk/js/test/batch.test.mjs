// pb.createBatch(): create, update, upsert and delete across collections in one transaction,
// with files; a failing request rolls the whole batch back and reports which one failed.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { assertStatus, docsCollection, explain, get, rejects, superuserClient, unique, useServer } from "../lib/env.mjs";
import { makePng } from "../lib/images.mjs";

const PNG = makePng(40, 30);

let server, pb, docs, notes;
before(async () => {
    server = await useServer();
    pb = await superuserClient(server.url);
    docs = unique("bdocs");
    notes = unique("bnotes");
    await pb.collections.create(docsCollection(docs));
    await pb.collections.create({ name: notes, type: "base", fields: [{ name: "msg", type: "text", required: true }] });
    await pb.settings.update({ batch: { enabled: true, maxRequests: 10 } });
});
after(() => server.stop());

test("a batch creates, updates, upserts and deletes across collections, files included", async () => {
    const batch = pb.createBatch();
    batch.collection(docs).create({ id: "batchdoc0000001", title: "first", cover: new File([PNG], "cover.png") });
    batch.collection(notes).create({ msg: "hello" });
    batch.collection(docs).update("batchdoc0000001", { title: "first, updated", rank: 3 });
    batch.collection(docs).upsert({ id: "batchdoc0000001", "rank+": 1 });
    batch.collection(docs).upsert({ title: "upserted" });
    const results = await batch.send().catch((err) => assert.fail(explain(err)));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200]);
    const [created, note, updated, upserted, fresh] = results.map((r) => r.body);
    assert.equal(created.title, "first");
    assert.match(created.cover, /^cover_\w+_\w+\.png$/);
    assert.equal(note.msg, "hello");
    assert.equal(updated.title, "first, updated");
    assert.equal(upserted.rank, 4);
    assert.equal(fresh.title, "upserted");

    const stored = await pb.collection(docs).getOne("batchdoc0000001");
    assert.equal(stored.rank, 4);
    const file = await get(pb.files.getURL(stored, stored.cover));
    assertStatus(file, 200);
    assert.ok(file.body.equals(PNG));

    const removal = pb.createBatch();
    removal.collection(docs).delete("batchdoc0000001");
    assert.deepEqual(await removal.send(), [{ status: 204, body: null }]);
    assertStatus(await get(pb.files.getURL(stored, stored.cover)), 404);
});

test("a failing request rolls the batch back and names the request that failed", async () => {
    const batch = pb.createBatch();
    batch.collection(notes).create({ msg: "kept only if all succeed" });
    batch.collection(docs).create({ title: "with a file", images: [new File([PNG], "a.png")] });
    batch.collection(docs).create({ rank: 1 });
    const err = await rejects(batch.send());
    assert.equal(err.status, 400);
    assert.equal(err.response.message, "Batch transaction failed.");
    const failed = err.response.data.requests["2"];
    assert.equal(failed.code, "batch_request_failed");
    assert.equal(failed.response.status, 400);
    assert.equal(failed.response.data.title.code, "validation_required");
    assert.equal((await pb.collection(notes).getList(1, 50, { filter: "msg = 'kept only if all succeed'" })).totalItems, 0);
    assert.equal((await pb.collection(docs).getList(1, 50, { filter: "title = 'with a file'" })).totalItems, 0);
});

test("batches are refused while the setting is off", async () => {
    await pb.settings.update({ batch: { enabled: false } });
    try {
        const batch = pb.createBatch();
        batch.collection(notes).create({ msg: "no" });
        const err = await rejects(batch.send());
        assert.equal(err.status, 403);
        assert.equal(err.response.message, "Batch requests are not allowed.");
    } finally {
        await pb.settings.update({ batch: { enabled: true } });
    }
});
