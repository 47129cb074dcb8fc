"use strict";
// node scripts/patch-azurite.js [node_modules]
//
// Makes the in-memory store of Azurite's table service (Azurite 3.37.0 on LokiJS 1.5.12, as
// package-lock.json pins them) find rows the way Azure's table service does: by PartitionKey
// and RowKey at once, so that what a request costs does not grow with the table. Unpatched, a
// request's cost grows with every order in the table (README "What Azurite's own costs mean for
// local figures"), and a long run measures the emulator rather than the system.
//
// Four edits, each made once: a second run finds them in place and changes nothing. If the
// original text is not found as expected (another Azurite or LokiJS), it fails and writes
// nothing, so that an upgrade is noticed rather than silently slow.
//   1. Azurite's six lookups by both keys name PartitionKey first. LokiJS uses an index for the
//      first key of a query only; with RowKey first, a lookup of "head" ran over the "head" row of
//      every order. (A lookup now runs over the rows of its partition.)
//   2. A query whose filter has "PartitionKey eq '<text>'" in its top-level "and" is first
//      narrowed by the PartitionKey index; the whole filter is still applied to each row found,
//      and the rows are sorted as before, so the answer is the same.
//   3. A replaced row takes its predecessor's place (Azurite removed it and inserted the new one,
//      and LokiJS's remove renumbers every entry of every index)...
//   4. ...and LokiJS's update leaves an index as it is when the new object's indexed value equals
//      the old one's (it is the same position in the same order). LokiJS serves Azurite's blob and
//      queue stores too; they update an object in place, which this leaves to the original path.
const fs = require("fs");
const path = require("path");

const modules = path.resolve(process.argv[2] || path.join(__dirname, "..", "node_modules"));
const store = path.join(modules, "azurite/dist/src/table/persistence/LokiTableMetadataStore.js");
const loki = path.join(modules, "lokijs/src/lokijs.js");

/** Replaces `from` (which must occur exactly once) by `to`, unless `marker` (a part of `to`) shows it was done. */
function replaceOnce(text, from, to, marker) {
  if (text.includes(marker)) {
    return text;
  }
  const found = text.split(from).length - 1;
  if (found !== 1) {
    throw new Error(`expected this text once, found it ${found} times:\n${from}`);
  }
  return text.replace(from, () => to);
}

function lookupsByPartitionFirst(text) {
  const lookup = /\{(\s+)RowKey: ([\w.]+),(\s+)PartitionKey: ([\w.]+)(\s+)\}/g;
  const found = (text.match(lookup) || []).length;
  if (found !== 0 && found !== 6) {
    throw new Error(`expected 6 lookups by { RowKey, PartitionKey } (or none, once patched), found ${found}`);
  }
  return text.replace(lookup, "{$1PartitionKey: $4,$3RowKey: $2$5}");
}

function queriesNarrowedByPartition(text) {
  text = replaceOnce(text,
    `class LokiTableMetadataStore {`,
    `// patched (scripts/patch-azurite.js): the PartitionKey a filter's top-level "and" asks for, to be found by its index.
function partitionKeyIndexQuery(filter) {
    if (typeof filter !== "string" || !filter.includes("PartitionKey")) {
        return undefined;
    }
    let node;
    try {
        node = require("./QueryInterpreter/QueryParser").default(filter);
    }
    catch {
        return undefined;
    }
    const find = (n) => {
        if (n.name === "and") {
            return find(n.left) ?? find(n.right);
        }
        if (n.name === "eq") {
            for (const [a, b] of [[n.left, n.right], [n.right, n.left]]) {
                if (a.name === "id" && a.identifier === "PartitionKey" && b.name === "constant" && typeof b.value === "string") {
                    return { PartitionKey: b.value };
                }
            }
        }
        return undefined;
    };
    return find(node);
}
class LokiTableMetadataStore {`,
    "function partitionKeyIndexQuery(");
  return replaceOnce(text,
    `            .chain()
            .where(queryWhere)`,
    `            .chain()
            .find(partitionKeyIndexQuery(queryOptions.filter))
            .where(queryWhere)`,
    ".find(partitionKeyIndexQuery(");
}

function replaceInPlace(text) {
  return replaceOnce(text,
    `            tableEntityCollection.remove(doc);
            entity.properties.Timestamp = entity.lastModifiedTime;
            entity.properties["Timestamp@odata.type"] = "Edm.DateTime";
            tableEntityCollection.insert(entity);
            return entity;`,
    `            // patched (scripts/patch-azurite.js): the new row takes the old one's place
            entity.properties.Timestamp = entity.lastModifiedTime;
            entity.properties["Timestamp@odata.type"] = "Edm.DateTime";
            entity.$loki = doc.$loki;
            entity.meta = doc.meta;
            tableEntityCollection.update(entity);
            return entity;`,
    "// patched (scripts/patch-azurite.js): the new row takes");
}

function indexKeptWhenValueIsKept(text) {
  return replaceOnce(text,
    `          for (key in bIndices) {
            this.adaptiveBinaryIndexUpdate(position, key);
          }`,
    `          for (key in bIndices) {
            // patched (scripts/patch-azurite.js): a new object with the same indexed value keeps its place in that index
            if (newInternal !== oldInternal &&
              Utils.getIn(newInternal, key, key.indexOf('.') !== -1) === Utils.getIn(oldInternal, key, key.indexOf('.') !== -1)) {
              continue;
            }
            this.adaptiveBinaryIndexUpdate(position, key);
          }`,
    "// patched (scripts/patch-azurite.js): a new object with the same indexed value");
}

/** Replaces the file at once (an Azurite starting meanwhile reads the old text or the new, never half of it). */
function write(file, text) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, file);
}

// Every edit is computed before any file is written, so that a mismatch leaves both files as they were.
const storeBefore = fs.readFileSync(store, "utf8");
const lokiBefore = fs.readFileSync(loki, "utf8");
const storeAfter = replaceInPlace(queriesNarrowedByPartition(lookupsByPartitionFirst(storeBefore)));
const lokiAfter = indexKeptWhenValueIsKept(lokiBefore);
if (storeAfter !== storeBefore) {
  write(store, storeAfter);
}
if (lokiAfter !== lokiBefore) {
  write(loki, lokiAfter);
}
if (storeAfter !== storeBefore || lokiAfter !== lokiBefore) {
  console.error("Patched Azurite's table store and LokiJS to find rows by PartitionKey and RowKey (scripts/patch-azurite.js).");
}
