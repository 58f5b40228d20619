// collections.create through the SDK: a base collection with text, single, multi (thumbs) and
// protected file fields, and an auth collection.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { docsCollection, explain, superuserClient, unique, useServer } from "../lib/env.mjs";

let server, pb;
before(async () => {
    server = await useServer();
    pb = await superuserClient(server.url);
});
after(() => server.stop());

const byName = (collection) => Object.fromEntries(collection.fields.map((f) => [f.name, f]));

test("collections.create makes a base collection whose file field options come back as sent", async () => {
    const name = unique("docs");
    const created = await pb.collections.create(docsCollection(name, { viewRule: null }));

    assert.match(created.id, /^pbc_\d+$/);
    assert.equal(created.name, name);
    assert.equal(created.type, "base");
    assert.equal(created.listRule, "");
    assert.equal(created.viewRule, null);
    const fields = byName(created);
    assert.equal(fields.id.type, "text");
    assert.equal(fields.id.primaryKey, true);
    assert.equal(fields.title.type, "text");
    assert.equal(fields.title.required, true);
    assert.equal(fields.cover.type, "file");
    assert.equal(fields.cover.maxSelect, 1);
    assert.deepEqual(fields.cover.mimeTypes, ["image/png", "image/jpeg"]);
    assert.equal(fields.cover.protected, false);
    assert.equal(fields.images.maxSelect, 5);
    assert.deepEqual(fields.images.thumbs, ["50x50", "0x80", "120x0", "300x300f"]);
    assert.equal(fields.secret.protected, true);
    assert.match(fields.images.id, /^file\d+$/);

    const fetched = await pb.collections.getOne(name);
    assert.equal(fetched.id, created.id);
    assert.deepEqual(byName(fetched).images.thumbs, ["50x50", "0x80", "120x0", "300x300f"]);
    const byId = await pb.collections.getOne(created.id);
    assert.equal(byId.name, name);
});

test("collections.create makes an auth collection with the system auth fields and default options", async () => {
    const name = unique("members");
    const created = await pb.collections.create({
        name,
        type: "auth",
        createRule: "",
        fields: [
            { name: "nickname", type: "text", max: 40 },
            { name: "avatar", type: "file", maxSelect: 1, mimeTypes: ["image/png"] },
        ],
        passwordAuth: { enabled: true, identityFields: ["email"] },
    });

    assert.equal(created.type, "auth");
    assert.equal(created.createRule, "");
    assert.equal(created.viewRule, null);
    const fields = byName(created);
    for (const system of ["id", "password", "tokenKey", "email", "emailVisibility", "verified"]) {
        assert.ok(fields[system], `auth system field ${system} is missing`);
    }
    assert.equal(fields.password.hidden, true);
    assert.equal(fields.tokenKey.hidden, true);
    assert.equal(fields.nickname.max, 40);
    assert.equal(fields.avatar.type, "file");
    assert.equal(created.passwordAuth.enabled, true);
    assert.deepEqual(created.passwordAuth.identityFields, ["email"]);
    assert.equal(created.authToken.duration, 432000);
    assert.equal(created.fileToken.duration, 180);
    assert.equal(created.authToken.secret, undefined, "token secrets never leave the server");
});

test("collections.create rejects an invalid thumb size with a field error", async () => {
    const body = docsCollection(unique("badthumbs"));
    body.fields.find((f) => f.name === "images").thumbs = ["100x"];
    const err = await pb.collections.create(body).then(
        () => assert.fail("created a collection with thumb 100x"),
        (e) => e,
    );
    assert.equal(err.status, 400, explain(err));
    assert.ok(JSON.stringify(err.response.data).includes("validation_match_invalid"), JSON.stringify(err.response));
});

test("collections.getFullList lists new collections and collections.delete removes one", async () => {
    const name = unique("scratch");
    await pb.collections.create({ name, type: "base", fields: [{ name: "title", type: "text" }] });
    let names = (await pb.collections.getFullList({ sort: "name" })).map((c) => c.name);
    assert.ok(names.includes(name));
    assert.deepEqual(names, [...names].sort());

    assert.equal(await pb.collections.delete(name), true);
    names = (await pb.collections.getFullList()).map((c) => c.name);
    assert.ok(!names.includes(name));
    const err = await pb.collections.getOne(name).then(() => null, (e) => e);
    assert.equal(err?.status, 404, explain(err));
});
