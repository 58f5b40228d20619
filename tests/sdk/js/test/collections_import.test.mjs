// pb.collections.import(): a schema exported with getFullList, changed and imported back (records
// kept), collections that point at each other made in one import, a refused import that leaves
// nothing behind, and deleteMissing (on a server of its own: it deletes every other collection).
// Also the other collection tools: getScaffolds, truncate and impersonate.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { explain, jwtClaims, rejects, superuserClient, unique, useServer } from "../lib/env.mjs";
import { startServer } from "../lib/server.mjs";

let server, pb;
before(async () => {
    server = await useServer();
    pb = await superuserClient(server.url);
});
after(() => server.stop());

/** Collections `authors` and `books` (books.author -> authors) under fresh names and ids. */
function authorsAndBooks() {
    const tag = unique("i").slice(2);
    const authors = { id: `authors${tag}`, name: `authors_${tag}`, type: "base", listRule: "", fields: [{ name: "name", type: "text", required: true }] };
    const books = {
        id: `books${tag}00`, name: `books_${tag}`, type: "base", listRule: "",
        fields: [{ name: "title", type: "text" }, { name: "author", type: "relation", collectionId: authors.id, maxSelect: 1 }],
    };
    return [authors, books];
}

test("collections that point at each other are made in one import, and an exported schema imports back", async () => {
    const [authors, books] = authorsAndBooks();
    assert.equal(await pb.collections.import([authors, books]).catch((err) => assert.fail(explain(err))), true);
    const ann = await pb.collection(authors.name).create({ name: "Ann" });
    const book = await pb.collection(books.name).create({ title: "One", author: ann.id });

    const exported = await pb.collections.getOne(books.name);
    exported.fields.push({ name: "pages", type: "number" });
    exported.listRule = "author.name != ''";
    await pb.collections.import([exported]).catch((err) => assert.fail(explain(err)));
    const changed = await pb.collections.getOne(books.id);
    assert.deepEqual(changed.fields.map((f) => f.name), ["id", "title", "author", "pages"]);
    assert.equal(changed.listRule, "author.name != ''");
    const kept = await pb.collection(books.name).getOne(book.id, { expand: "author" });
    assert.equal(kept.title, "One");
    assert.equal(kept.expand.author.name, "Ann");
});

test("a refused import names the failing collection and changes nothing", async () => {
    const [authors, books] = authorsAndBooks();
    const err = await rejects(pb.collections.import([authors, { ...books, listRule: "nope = 1" }]));
    assert.equal(err.status, 400);
    assert.equal(err.response.message, "Failed to import collections.");
    assert.equal(err.response.data.collections.code, "validation_collections_import_failure");
    assert.match(err.response.data.collections.message, new RegExp(`^Data validations failed for collection "${books.name}"`));
    assert.equal((await rejects(pb.collections.getOne(authors.name))).status, 404);
});

test("deleteMissing deletes the collections and fields the import leaves out, but not system ones", async () => {
    const own = await startServer();
    try {
        const admin = await superuserClient(own.url);
        const [authors, books] = authorsAndBooks();
        await admin.collections.import([authors, books, { name: "scratch", type: "base" }]);
        const slim = { ...books, fields: [{ name: "title", type: "text" }] };
        await admin.collections.import([authors, slim], true).catch((err) => assert.fail(explain(err)));
        const names = (await admin.collections.getFullList()).map((c) => c.name);
        assert.ok(names.includes("_superusers"));
        assert.ok(!names.includes("scratch") && !names.includes("users"));
        assert.deepEqual((await admin.collections.getOne(books.id)).fields.map((f) => f.name), ["title", "id"]);
    } finally {
        await own.stop();
    }
});

test("scaffolds, truncate and impersonate", async () => {
    const scaffolds = await pb.collections.getScaffolds();
    assert.deepEqual(Object.keys(scaffolds).sort(), ["auth", "base", "view"]);
    assert.deepEqual(scaffolds.auth.fields.map((f) => f.name), ["id", "password", "tokenKey", "email", "emailVisibility", "verified"]);

    const [authors] = authorsAndBooks();
    await pb.collections.import([authors]);
    await pb.collection(authors.name).create({ name: "Ann" });
    assert.equal(await pb.collections.truncate(authors.name), true);
    assert.equal((await pb.collection(authors.name).getList(1, 1)).totalItems, 0);

    const email = `${unique("imp")}@example.com`;
    const user = await pb.collection("users").create({ email, password: "imp-password-1", passwordConfirm: "imp-password-1" });
    const impersonated = await pb.collection("users").impersonate(user.id, 600);
    assert.equal(impersonated.authStore.record.id, user.id);
    const claims = jwtClaims(impersonated.authStore.token);
    assert.equal(claims.refreshable, false);
    assert.ok(Math.abs(claims.exp - Date.now() / 1000 - 600) < 60);
    const token = impersonated.authStore.token;
    await impersonated.collection("users").authRefresh();
    assert.equal(impersonated.authStore.token, token); // not renewed
});
