"use strict";
// node scripts/patch-azurite.js [node_modules]
//
// Makes the in-memory store of Azurite's table service (Azurite 3.37.0 on LokiJS 1.5.12, as
// package-lock.json pins them) find rows the way Azure's table service does: by PartitionKey
// and RowKey at once, so that what a request costs does not grow with the table. Unpatched, a
// request's cost grows with every order in the table (README "What Azurite's own costs mean for
// local figures"), and a long run measures the emulator rather than the system.
//
// Five edits, made to each file's text as installed (kept beside it as FILE.orig by the first run),
// so a second run changes nothing and a new revision of this script replaces the edits of an older
// one. If the original text is not found as expected (another Azurite or LokiJS), it fails and
// writes nothing but that copy, so that an upgrade is noticed rather than silently slow. Revisions
// before the copy existed cannot patch files a later one patched: reinstall (npm ci) to run one.
//   1. Azurite's six lookups by both keys go through a map of PartitionKey → RowKey → row id, kept
//      beside each table from its collection's insert, update and delete events. LokiJS uses an
//      index for the first key of a query only, and Azurite named the RowKey first: a lookup of
//      "head" ran over the "head" row of every order (and PartitionKey first would run over every
//      row of a long stream's partition).
//   2. A query whose filter has "PartitionKey eq '<text>'" in its top-level "and" runs over that
//      partition's rows within the RowKey bounds of that "and" only, found by binary search in the
//      partition's RowKeys, which the same map keeps in order; the whole filter is still applied
//      to each row found, and the rows are sorted as before, so the answer is the same. (Through
//      the PartitionKey index, a range cost what its whole partition did: README "Benchmarks".)
//   3. A replaced row takes its predecessor's place (Azurite removed it and inserted the new one,
//      and LokiJS's remove renumbers every entry of every index)...
//   4. ...and LokiJS's update leaves an index as it is when the new object's indexed value equals
//      the old one's (it is the same position in the same order). LokiJS serves Azurite's blob and
//      queue stores too; they update an object in place, which this leaves to the original path.
//   5. A new table's collection has no LokiJS index: 1 and 2 find its rows through the map, and
//      each insert moved both indexes' arrays, as long as the table, to make room. (A table saved
//      by ./run.sh's Azurite before this keeps its indexes; they cost only time.)
const fs = require("fs");
const path = require("path");

const modules = path.resolve(process.argv[2] || path.join(__dirname, "..", "node_modules"));
const store = path.join(modules, "azurite/dist/src/table/persistence/LokiTableMetadataStore.js");
const loki = path.join(modules, "lokijs/src/lokijs.js");

/** Replaces `from`, which must occur exactly once in the text as installed, by `to`. */
function replaceOnce(text, from, to) {
  const found = text.split(from).length - 1;
  if (found !== 1) {
    throw new Error(`expected this text once, found it ${found} times:\n${from}`);
  }
  return text.replace(from, () => to);
}

function lookupsByBothKeys(text) {
  const lookup = /(\w+)\.findOne\(\{\s+RowKey: ([\w.]+),\s+PartitionKey: ([\w.]+)\s+\}\)/g;
  const found = (text.match(lookup) || []).length;
  if (found !== 6) {
    throw new Error(`expected 6 lookups by { RowKey, PartitionKey }, found ${found}`);
  }
  text = text.replace(lookup, "findEntity($1, $3, $2)");
  return replaceOnce(text,
    `class LokiTableMetadataStore {`,
    `// patched (scripts/patch-azurite.js): a table's row ids by PartitionKey and RowKey, and each
// partition's RowKeys in order, kept from its collection's own events, so that finding a row by both
// keys, or a partition's rows within RowKey bounds, does not run over other rows.
const entityIdsByKeys = new WeakMap();
function entityIdsOf(collection) {
    let partitions = entityIdsByKeys.get(collection);
    if (partitions !== undefined) {
        return partitions;
    }
    partitions = new Map();
    const add = (doc) => {
        let partition = partitions.get(doc.PartitionKey);
        if (partition === undefined) {
            partition = { ids: new Map(), rowKeys: [] };
            partitions.set(doc.PartitionKey, partition);
        }
        if (!partition.ids.has(doc.RowKey)) {
            partition.rowKeys.splice(firstRowKeyFrom(partition.rowKeys, doc.RowKey, false), 0, doc.RowKey);
        }
        partition.ids.set(doc.RowKey, doc.$loki);
    };
    const remove = (doc) => {
        const partition = partitions.get(doc.PartitionKey);
        if (partition !== undefined && partition.ids.get(doc.RowKey) === doc.$loki) {
            partition.ids.delete(doc.RowKey);
            partition.rowKeys.splice(firstRowKeyFrom(partition.rowKeys, doc.RowKey, false), 1);
            if (partition.ids.size === 0) {
                partitions.delete(doc.PartitionKey);
            }
        }
    };
    const each = (apply) => (docs) => (Array.isArray(docs) ? docs.forEach(apply) : apply(docs));
    collection.data.forEach(add);
    collection.on("insert", each(add));
    // A row's keys never change in Azurite; were they to, the old ones would go.
    collection.on("update", (doc, old) => {
        if (old && (old.PartitionKey !== doc.PartitionKey || old.RowKey !== doc.RowKey)) {
            remove(old);
        }
        each(add)(doc);
    });
    collection.on("delete", each(remove));
    entityIdsByKeys.set(collection, partitions);
    return partitions;
}
/** The position of the first of the ordered RowKeys at or after (or, when after is true, after) rowKey; JavaScript string order, as the filter compares. */
function firstRowKeyFrom(rowKeys, rowKey, after) {
    let low = 0;
    let high = rowKeys.length;
    while (low < high) {
        const middle = (low + high) >>> 1;
        if (rowKeys[middle] < rowKey || (after && rowKeys[middle] === rowKey)) {
            low = middle + 1;
        }
        else {
            high = middle;
        }
    }
    return low;
}
function findEntity(collection, partitionKey, rowKey) {
    if (collection.asyncListeners) {
        // events arrive later: the map could miss a row just written
        return collection.findOne({ PartitionKey: partitionKey, RowKey: rowKey });
    }
    const partition = entityIdsOf(collection).get(partitionKey);
    const id = partition === undefined ? undefined : partition.ids.get(rowKey);
    const doc = id === undefined ? null : collection.get(id);
    return doc && doc.PartitionKey === partitionKey && doc.RowKey === rowKey ? doc : null;
}
class LokiTableMetadataStore {`);
}

function queriesNarrowedByKeys(text) {
  text = replaceOnce(text,
    `class LokiTableMetadataStore {`,
    `// patched (scripts/patch-azurite.js): a query whose filter's top-level "and" asks for one PartitionKey
// runs over that partition's rows within the RowKey bounds the same "and" sets (found by binary search
// in the partition's ordered RowKeys), before the whole filter runs; the bounds compare as the filter
// does (JavaScript string order), so the rows the filter accepts are the same.
function narrowedByKeys(collection, filter) {
    const resultset = collection.chain();
    if (typeof filter !== "string" || !filter.includes("PartitionKey") || collection.asyncListeners) {
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
    const rowKeyBounds = [];
    const flipped = { eq: "eq", lt: "gt", le: "ge", gt: "lt", ge: "le" };
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
                rowKeyBounds.push([operator, constant.value]);
            }
        }
    };
    visit(node);
    if (partitionKey === undefined) {
        return resultset;
    }
    const partition = entityIdsOf(collection).get(partitionKey);
    const rowKeys = partition === undefined ? [] : partition.rowKeys;
    let from = 0;
    let to = rowKeys.length;
    for (const [operator, rowKey] of rowKeyBounds) {
        if (operator === "ge" || operator === "eq") {
            from = Math.max(from, firstRowKeyFrom(rowKeys, rowKey, false));
        }
        if (operator === "gt") {
            from = Math.max(from, firstRowKeyFrom(rowKeys, rowKey, true));
        }
        if (operator === "le" || operator === "eq") {
            to = Math.min(to, firstRowKeyFrom(rowKeys, rowKey, true));
        }
        if (operator === "lt") {
            to = Math.min(to, firstRowKeyFrom(rowKeys, rowKey, false));
        }
    }
    const positions = [];
    for (let i = from; i < to; i++) {
        const found = collection.get(partition.ids.get(rowKeys[i]), true);
        if (found) {
            positions.push(found[1]);
        }
    }
    resultset.filteredrows = positions;
    resultset.filterInitialized = true;
    return resultset;
}
class LokiTableMetadataStore {`);
  return replaceOnce(text,
    `        const result = tableEntityCollection
            .chain()
            .where(queryWhere)`,
    `        const result = narrowedByKeys(tableEntityCollection, queryOptions.filter)
            .where(queryWhere)`);
}

function noIndexesOfEntities(text) {
  return replaceOnce(text,
    `            // Optimization for indexing and searching
            // https://rawgit.com/techfort/LokiJS/master/jsdoc/tutorial-Indexing%20and%20Query%20performance.html
            indices: ["PartitionKey", "RowKey"]`,
    `            // patched (scripts/patch-azurite.js): rows are found through the map of both keys, which
            // keeps each partition's RowKeys in order; LokiJS's indexes would only cost every insert a
            // move of arrays as long as the table
            indices: []`);
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
            return entity;`);
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
          }`);
}

/** Replaces the file at once (an Azurite starting meanwhile reads the old text or the new, never half of it). */
function write(file, text) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, file);
}

/**
 * The file's text as installed: kept beside it (FILE.orig) by the first run, so that every run, of
 * any revision of this script, edits that text and a second run changes nothing. A file patched by
 * an earlier revision that kept no copy exits with status 3: reinstall it (ensure_azurite runs npm ci).
 */
function installed(file) {
  const kept = `${file}.orig`;
  // Read before looking for the copy: a run that patches the file meanwhile writes the copy first.
  const text = fs.readFileSync(file, "utf8");
  if (fs.existsSync(kept)) {
    return fs.readFileSync(kept, "utf8");
  }
  if (text.includes("patched (scripts/patch-azurite.js)")) {
    console.error(`${file} was patched by an earlier revision of scripts/patch-azurite.js, which kept no copy of it as installed.`);
    process.exit(3);
  }
  write(kept, text);
  return text;
}

// Every edit is computed before any file is written, so that a mismatch leaves both files as they were.
const storeNow = fs.readFileSync(store, "utf8");
const lokiNow = fs.readFileSync(loki, "utf8");
const storeAfter = noIndexesOfEntities(replaceInPlace(queriesNarrowedByKeys(lookupsByBothKeys(installed(store)))));
const lokiAfter = indexKeptWhenValueIsKept(installed(loki));
if (storeAfter !== storeNow) {
  write(store, storeAfter);
}
if (lokiAfter !== lokiNow) {
  write(loki, lokiAfter);
}
if (storeAfter !== storeNow || lokiAfter !== lokiNow) {
  console.error("Patched Azurite's table store and LokiJS to find rows by PartitionKey and RowKey (scripts/patch-azurite.js).");
}
