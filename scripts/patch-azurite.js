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
//   1. Azurite's six lookups by both keys go through a map of PartitionKey → RowKey → row id, kept
//      beside each table from its collection's insert, update and delete events. LokiJS uses an
//      index for the first key of a query only, and Azurite named the RowKey first: a lookup of
//      "head" ran over the "head" row of every order (and PartitionKey first would run over every
//      row of a long stream's partition).
//   2. A query whose filter has "PartitionKey eq '<text>'" in its top-level "and" is first
//      narrowed by the PartitionKey index, and then by the RowKey bounds of that "and"; the whole
//      filter is still applied to each row found, and the rows are sorted as before, so the
//      answer is the same.
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

function lookupsByBothKeys(text) {
  const lookup = /(\w+)\.findOne\(\{\s+RowKey: ([\w.]+),\s+PartitionKey: ([\w.]+)\s+\}\)/g;
  const found = (text.match(lookup) || []).length;
  if (found !== 0 && found !== 6) {
    throw new Error(`expected 6 lookups by { RowKey, PartitionKey } (or none, once patched), found ${found}`);
  }
  text = text.replace(lookup, "findEntity($1, $3, $2)");
  return replaceOnce(text,
    `class LokiTableMetadataStore {`,
    `// patched (scripts/patch-azurite.js): a table's row ids by PartitionKey and RowKey, kept from its
// collection's own events, so that finding a row by both keys does not run over other rows.
const entityIdsByKeys = new WeakMap();
function entityIdsOf(collection) {
    let partitions = entityIdsByKeys.get(collection);
    if (partitions !== undefined) {
        return partitions;
    }
    partitions = new Map();
    const add = (doc) => {
        let rows = partitions.get(doc.PartitionKey);
        if (rows === undefined) {
            rows = new Map();
            partitions.set(doc.PartitionKey, rows);
        }
        rows.set(doc.RowKey, doc.$loki);
    };
    const remove = (doc) => {
        const rows = partitions.get(doc.PartitionKey);
        if (rows !== undefined && rows.get(doc.RowKey) === doc.$loki) {
            rows.delete(doc.RowKey);
            if (rows.size === 0) {
                partitions.delete(doc.PartitionKey);
            }
        }
    };
    const each = (apply) => (docs) => (Array.isArray(docs) ? docs.forEach(apply) : apply(docs));
    collection.data.forEach(add);
    collection.on("insert", each(add));
    collection.on("update", each(add));
    collection.on("delete", each(remove));
    entityIdsByKeys.set(collection, partitions);
    return partitions;
}
function findEntity(collection, partitionKey, rowKey) {
    if (collection.asyncListeners) {
        // events arrive later: the map could miss a row just written
        return collection.findOne({ PartitionKey: partitionKey, RowKey: rowKey });
    }
    const rows = entityIdsOf(collection).get(partitionKey);
    const id = rows === undefined ? undefined : rows.get(rowKey);
    const doc = id === undefined ? null : collection.get(id);
    return doc && doc.PartitionKey === partitionKey && doc.RowKey === rowKey ? doc : null;
}
class LokiTableMetadataStore {`,
    "function findEntity(");
}

function queriesNarrowedByKeys(text) {
  text = replaceOnce(text,
    `class LokiTableMetadataStore {`,
    `// patched (scripts/patch-azurite.js): a query whose filter's top-level "and" asks for one PartitionKey
// runs over that partition's rows (its index), and, of those, over the rows within the RowKey bounds
// the same "and" sets, before the whole filter runs; the bounds compare as the filter does (JavaScript
// string order), so the rows the filter accepts are the same.
function narrowedByKeys(resultset, filter) {
    if (typeof filter !== "string" || !filter.includes("PartitionKey")) {
        return resultset;
    }
    let node;
    try {
        node = require("./QueryInterpreter/QueryParser").default(filter);
    }
    catch {
        return resultset;
    }
    let partitionKey;
    const rowKeyTests = [];
    const flipped = { eq: "eq", lt: "gt", le: "ge", gt: "lt", ge: "le" };
    const tests = {
        eq: (c) => (rowKey) => rowKey === c,
        lt: (c) => (rowKey) => rowKey < c,
        le: (c) => (rowKey) => rowKey <= c,
        gt: (c) => (rowKey) => rowKey > c,
        ge: (c) => (rowKey) => rowKey >= c,
    };
    const visit = (n) => {
        if (n.name === "and") {
            visit(n.left);
            visit(n.right);
            return;
        }
        if (!(n.name in flipped)) {
            return;
        }
        for (const [key, constant, operator] of [[n.left, n.right, n.name], [n.right, n.left, flipped[n.name]]]) {
            if (key.name !== "id" || constant.name !== "constant" || typeof constant.value !== "string") {
                continue;
            }
            if (key.identifier === "PartitionKey" && operator === "eq" && partitionKey === undefined) {
                partitionKey = constant.value;
            }
            else if (key.identifier === "RowKey") {
                rowKeyTests.push(tests[operator](constant.value));
            }
        }
    };
    visit(node);
    if (partitionKey === undefined) {
        return resultset;
    }
    const partition = resultset.find({ PartitionKey: partitionKey });
    return rowKeyTests.length === 0 ? partition : partition.where((doc) => rowKeyTests.every((test) => test(doc.RowKey)));
}
class LokiTableMetadataStore {`,
    "function narrowedByKeys(");
  return replaceOnce(text,
    `        const result = tableEntityCollection
            .chain()
            .where(queryWhere)`,
    `        const result = narrowedByKeys(tableEntityCollection.chain(), queryOptions.filter)
            .where(queryWhere)`,
    "narrowedByKeys(tableEntityCollection.chain()");
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
const storeAfter = replaceInPlace(queriesNarrowedByKeys(lookupsByBothKeys(storeBefore)));
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
