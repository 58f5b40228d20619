// Relations through the SDK: expand (nested, back-relations, each level behind its own view
// rule), fields with expand paths and :excerpt, and a user's filtered list under a list rule.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import PocketBase from "pocketbase";

import { superuserClient, unique, useServer } from "../lib/env.mjs";

const PASSWORD = "user-password-123";

let server, admin, names, ann, bob, annClient;
before(async () => {
    server = await useServer();
    admin = await superuserClient(server.url);
    const usersId = (await admin.collections.getOne("users")).id;
    names = { teams: unique("teams"), posts: unique("posts"), comments: unique("comments") };
    const teams = await admin.collections.create({
        name: names.teams, type: "base", listRule: "", viewRule: "secret = false",
        fields: [{ name: "name", type: "text" }, { name: "secret", type: "bool" }],
    });
    const posts = await admin.collections.create({
        name: names.posts, type: "base",
        listRule: "author = @request.auth.id || public = true", viewRule: "author = @request.auth.id || public = true",
        fields: [
            { name: "title", type: "text" }, { name: "body", type: "editor" }, { name: "public", type: "bool" },
            { name: "author", type: "relation", collectionId: usersId, maxSelect: 1 },
            { name: "teams", type: "relation", collectionId: teams.id, maxSelect: 5 },
        ],
    });
    await admin.collections.create({
        name: names.comments, type: "base", listRule: "", viewRule: "",
        fields: [{ name: "text", type: "text" }, { name: "post", type: "relation", collectionId: posts.id, maxSelect: 1 }],
    });
    await admin.collections.update("users", { viewRule: "id = @request.auth.id" });

    const signUp = async (label) => {
        const email = `${unique(label)}@example.com`;
        return admin.collection("users").create({ email, password: PASSWORD, passwordConfirm: PASSWORD, name: label });
    };
    [ann, bob] = [await signUp("ann"), await signUp("bob")];
    annClient = new PocketBase(server.url);
    await annClient.collection("users").authWithPassword(ann.email, PASSWORD);

    const red = await admin.collection(names.teams).create({ name: "red", secret: false });
    const hidden = await admin.collection(names.teams).create({ name: "hidden", secret: true });
    const mine = await admin.collection(names.posts).create({
        title: "mine", body: "<p>Hello <b>big</b> world, this is a long body</p>", public: false, author: ann.id, teams: [red.id, hidden.id],
    });
    await admin.collection(names.posts).create({ title: "bob's secret", public: false, author: bob.id });
    await admin.collection(names.posts).create({ title: "bob's public", public: true, author: bob.id });
    await admin.collection(names.comments).create({ text: "first", post: mine.id });
    await admin.collection(names.comments).create({ text: "second", post: mine.id });
});
after(() => server.stop());

test("a user's filtered list sees only what the list rule lets through", async () => {
    const list = await annClient.collection(names.posts).getList(1, 10, { filter: "title ~ 'i'", sort: "title" });
    assert.deepEqual(list.items.map((p) => p.title), ["bob's public", "mine"]);
    const guest = new PocketBase(server.url);
    const guestList = await guest.collection(names.posts).getFullList({ sort: "title" });
    assert.deepEqual(guestList.map((p) => p.title), ["bob's public"]);
});

test("expand follows relations and back-relations, each behind its own view rule", async () => {
    const post = await annClient.collection(names.posts).getFirstListItem("title = 'mine'", {
        expand: `author,teams,${names.comments}_via_post`,
    });
    assert.equal(post.expand.author.id, ann.id, "ann may view her own user record");
    assert.deepEqual(post.expand.teams.map((t) => t.name), ["red"], "the secret team fails its view rule");
    assert.deepEqual(post.expand[`${names.comments}_via_post`].map((c) => c.text), ["first", "second"]);

    const bobs = await annClient.collection(names.posts).getFirstListItem("title = \"bob's public\"", { expand: "author" });
    assert.deepEqual(bobs.expand, {}, "bob's user record is not viewable by ann: an empty expand, as the reference answers");

    const nested = await admin.collection(names.comments).getFirstListItem("text = 'first'", { expand: "post.author,post.teams" });
    assert.equal(nested.expand.post.title, "mine");
    assert.equal(nested.expand.post.expand.author.id, ann.id);
    assert.deepEqual(nested.expand.post.expand.teams.map((t) => t.name).sort(), ["hidden", "red"], "superusers see every team");
});

test("fields picks keys, expand paths and excerpts", async () => {
    const post = await annClient.collection(names.posts).getFirstListItem("title = 'mine'", {
        expand: "author",
        fields: "id,title,body:excerpt(15,true),expand.author.name",
    });
    assert.deepEqual(Object.keys(post).sort(), ["body", "expand", "id", "title"]);
    assert.equal(post.body, "Hello big world...");
    assert.deepEqual(post.expand, { author: { name: "ann" } });

    const one = await annClient.collection(names.posts).getOne(post.id, { fields: "title" });
    assert.deepEqual(one, { title: "mine" });
});
