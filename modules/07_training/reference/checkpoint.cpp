// checkpoint.cpp - saving named tensors to a checkpoint file and loading them
// back, in the format of tt_07_training.h:
//
//   "TTCKPT\0\0"  u32 version (1)  u32 count
//   count x { u32 name length, name bytes, u32 ndim, i64 shape[ndim], f32 data[numel] }
//   u32 CRC-32 of every byte before it
//
// Everything little-endian. Loading never trusts the file: every length is
// checked against the bytes that are really there, and no tensor is touched
// until the whole file and every requested name and shape checked out.
#include <cstdio>
#include <cstring>

#include "training_internal.hpp"

namespace train {

namespace {

// Parse and check a whole checkpoint file (magic, version, every entry inside
// the file, nothing left over, CRC). On success `entries` lists every tensor.
tt_status parse_checkpoint(const std::vector<uint8_t>& bytes, const std::string& path,
                           std::vector<CheckpointEntry>* entries) {
    const char* fn = "checkpoint_load";
    // BEGIN SOLUTION
    // TODO: check, in this order, each failure being TT_CORRUPT_DATA with a
    //   message that names the file and what is wrong:
    //   - at least 8 (magic) + 4 (version) + 4 (count) + 4 (CRC) = 20 bytes;
    //   - the magic (k_checkpoint_magic), then version == TT_CHECKPOINT_VERSION;
    //   - `count` entries, each: u32 name length, the name, u32 ndim
    //     (<= TT_MAX_DIMS), ndim i64 sizes (each >= 0), numel f32 values,
    //     every read inside the bytes before the CRC (else: truncated);
    //   - no bytes left between the last entry and the CRC;
    //   - the stored CRC (the last 4 bytes) equals
    //     ttm::host()->crc32(0, bytes.data(), bytes.size() - 4);
    //   - no name twice.
    // HINT: ByteReader{bytes.data(), bytes.size() - 4, 8} reads the part after
    //   the magic and before the CRC, with bounds checks. Guard numel against
    //   overflow: compare it with reader.left() / 4 before multiplying by 4.
    auto corrupt = [&](const std::string& what) {
        return ttm::fail(TT_CORRUPT_DATA, fn, "checkpoint " + path + " is damaged: " + what);
    };
    if (bytes.size() < 20)
        return corrupt("it has only " + std::to_string(bytes.size()) +
                       " bytes, fewer than the smallest checkpoint (20); the file is truncated or not a checkpoint");
    if (std::memcmp(bytes.data(), k_checkpoint_magic, 8) != 0)
        return ttm::fail(TT_CORRUPT_DATA, fn, path + " is not a TinyTorch checkpoint (it does not start with TTCKPT)");
    ByteReader r{bytes.data(), bytes.size() - 4, 8};
    uint32_t version = 0, count = 0;
    r.u32(&version);
    if (version != TT_CHECKPOINT_VERSION)
        return ttm::fail(TT_CORRUPT_DATA, fn,
                         "checkpoint " + path + " has format version " + std::to_string(version) +
                             "; this build reads version " + std::to_string(TT_CHECKPOINT_VERSION));
    r.u32(&count);
    entries->clear();
    for (uint32_t i = 0; i < count; ++i) {
        CheckpointEntry e;
        uint32_t name_len = 0, ndim = 0;
        const uint8_t* name = nullptr;
        if (!r.u32(&name_len) || !r.skip(name_len, &name))
            return corrupt("tensor #" + std::to_string(i) + ": its name runs past the end of the file (truncated?)");
        e.name.assign(reinterpret_cast<const char*>(name), name_len);
        const std::string which = "tensor #" + std::to_string(i) + " '" + e.name + "'";
        if (!r.u32(&ndim)) return corrupt(which + ": the file ends before its ndim (truncated?)");
        if (ndim > TT_MAX_DIMS)
            return corrupt(which + ": ndim " + std::to_string(ndim) + " is more than " + std::to_string(TT_MAX_DIMS));
        e.ndim = static_cast<int32_t>(ndim);
        for (int32_t d = 0; d < e.ndim; ++d) {
            if (!r.i64(&e.shape[d])) return corrupt(which + ": the file ends inside its shape (truncated?)");
            if (e.shape[d] < 0) return corrupt(which + ": negative size " + std::to_string(e.shape[d]));
            if (e.shape[d] > 0 && e.numel > static_cast<int64_t>(r.left() / 4) / e.shape[d])
                return corrupt(which + ": shape " + shape_str(d + 1, e.shape) + " needs more data than the file has");
            e.numel *= e.shape[d];
        }
        if (static_cast<uint64_t>(e.numel) > r.left() / 4)
            return corrupt(which + " " + shape_str(e.ndim, e.shape) + " needs " + std::to_string(e.numel * 4) +
                           " bytes of data but only " + std::to_string(r.left()) + " remain (truncated?)");
        r.skip(static_cast<size_t>(e.numel) * 4, &e.data);
        for (const CheckpointEntry& other : *entries)
            if (other.name == e.name) return corrupt("the name '" + e.name + "' appears twice");
        entries->push_back(std::move(e));
    }
    if (r.left() != 0) return corrupt(std::to_string(r.left()) + " unexpected bytes after the last tensor");
    ByteReader tail{bytes.data(), bytes.size(), bytes.size() - 4};
    uint32_t stored = 0;
    tail.u32(&stored);
    const uint32_t computed = ttm::host()->crc32(0, bytes.data(), bytes.size() - 4);
    if (stored != computed) {
        char msg[96];
        std::snprintf(msg, sizeof msg, "CRC mismatch (stored 0x%08x, computed 0x%08x)", stored, computed);
        return corrupt(msg);
    }
    return TT_OK;
    // END SOLUTION
}

}  // namespace

tt_status checkpoint_save(const char* path, int32_t count, const char* const* names, const tt_tensor* const* tensors) {
    TT_GUARD_BEGIN
    if (path == nullptr || path[0] == '\0') return ttm::fail(TT_INVALID_ARGUMENT, __func__, "path is NULL or empty");
    if (count < 0 || (count > 0 && (names == nullptr || tensors == nullptr)))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "names or tensors is NULL, or count < 0");
    for (int32_t i = 0; i < count; ++i) {
        const std::string at = "entry " + std::to_string(i);
        if (names[i] == nullptr || names[i][0] == '\0')
            return ttm::fail(TT_INVALID_ARGUMENT, __func__, at + ": the name is NULL or empty");
        if (tensors[i] == nullptr)
            return ttm::fail(TT_INVALID_ARGUMENT, __func__, at + " '" + names[i] + "': the tensor is NULL");
        if (tensors[i]->ndim < 0 || tensors[i]->ndim > TT_MAX_DIMS)
            return ttm::fail(TT_INVALID_ARGUMENT, __func__, at + " '" + names[i] + "': ndim out of range");
        for (int32_t j = 0; j < i; ++j)
            if (std::strcmp(names[i], names[j]) == 0)
                return ttm::fail(TT_INVALID_ARGUMENT, __func__, std::string("the name '") + names[i] + "' is given twice");
    }
    ByteWriter w;
    // BEGIN SOLUTION
    // TODO: serialise into w exactly as tt_07_training.h says: the magic
    //   (k_checkpoint_magic, 8 bytes), u32 TT_CHECKPOINT_VERSION, u32 count,
    //   then per tensor u32 name length, the name bytes (no '\0'), u32 ndim,
    //   ndim i64 sizes and numel f32 values; last the u32 CRC-32 of every byte
    //   written so far: ttm::host()->crc32(0, w.bytes.data(), w.bytes.size()).
    // HINT: ByteWriter has raw, u32, i64 and f32s, all little-endian.
    w.raw(k_checkpoint_magic, sizeof k_checkpoint_magic);
    w.u32(TT_CHECKPOINT_VERSION);
    w.u32(static_cast<uint32_t>(count));
    for (int32_t i = 0; i < count; ++i) {
        const tt_tensor* t = tensors[i];
        const size_t len = std::strlen(names[i]);
        w.u32(static_cast<uint32_t>(len));
        w.raw(names[i], len);
        w.u32(static_cast<uint32_t>(t->ndim));
        for (int32_t d = 0; d < t->ndim; ++d) w.i64(t->shape[d]);
        w.f32s(t->data, t->numel);
    }
    w.u32(ttm::host()->crc32(0, w.bytes.data(), w.bytes.size()));
    // END SOLUTION
    return write_file_atomic(__func__, path, w.bytes);
    TT_GUARD_END
}

tt_status checkpoint_load(const char* path, int32_t count, const char* const* names, tt_tensor* const* tensors) {
    TT_GUARD_BEGIN
    if (path == nullptr || path[0] == '\0') return ttm::fail(TT_INVALID_ARGUMENT, __func__, "path is NULL or empty");
    if (count < 0 || (count > 0 && (names == nullptr || tensors == nullptr)))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "names or tensors is NULL, or count < 0");
    for (int32_t i = 0; i < count; ++i)
        if (names[i] == nullptr || tensors[i] == nullptr)
            return ttm::fail(TT_INVALID_ARGUMENT, __func__, "entry " + std::to_string(i) + ": the name or the tensor is NULL");
    std::vector<uint8_t> bytes;
    TT_CHECK(read_file(__func__, path, &bytes));
    std::vector<CheckpointEntry> entries;
    TT_CHECK(parse_checkpoint(bytes, path, &entries));
    // BEGIN SOLUTION
    // TODO: find every names[i] among the entries (missing: TT_CORRUPT_DATA
    //   naming the tensor and the file) and require exactly the shape of
    //   tensors[i] (else TT_SHAPE_MISMATCH showing both shapes). Only when
    //   EVERY tensor checked out, copy the data in: a failure modifies nothing.
    // HINT: remember the matching entry of each tensor in a first loop and
    //   copy with read_f32s in a second one.
    std::vector<const CheckpointEntry*> match(static_cast<size_t>(count), nullptr);
    for (int32_t i = 0; i < count; ++i) {
        for (const CheckpointEntry& e : entries)
            if (e.name == names[i]) match[static_cast<size_t>(i)] = &e;
        const CheckpointEntry* e = match[static_cast<size_t>(i)];
        if (e == nullptr) {
            std::string have;
            for (const CheckpointEntry& other : entries) have += (have.empty() ? "" : ", ") + other.name;
            return ttm::fail(TT_CORRUPT_DATA, __func__,
                             std::string("checkpoint ") + path + " has no tensor named '" + names[i] +
                                 "' (it holds: " + (have.empty() ? "nothing" : have) + ")");
        }
        const tt_tensor* t = tensors[i];
        bool same = e->ndim == t->ndim;
        for (int32_t d = 0; same && d < t->ndim; ++d) same = e->shape[d] == t->shape[d];
        if (!same)
            return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                             std::string("tensor '") + names[i] + "': the checkpoint " + path + " has shape " +
                                 shape_str(e->ndim, e->shape) + ", the tensor to load into has " +
                                 shape_str(t->ndim, t->shape));
    }
    for (int32_t i = 0; i < count; ++i) read_f32s(match[static_cast<size_t>(i)]->data, tensors[i]->numel, tensors[i]->data);
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

}  // namespace train
