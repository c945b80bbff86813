/* Model upload to A/B slots, signed packages, and the model input/output buffers.
 *
 * An upload always writes the slot that is not active. The active slot switches only
 * after MODEL_COMMIT has checked the CRC-32 of the whole package — and, on a provisioned
 * board, its signature and anti-rollback version — so an interrupted, bad or refused upload
 * leaves the previous model in place.
 *
 * A slot holds the uploaded bytes as they came: a bare package, or a signed package (the
 * package, then its 96-byte block, tm_signed_package.h). The interpreter gets the package
 * without the block: its total_size says where it ends (the loader wants exactly that).
 *
 * A commit puts the new slot on trial: until MODEL_CONFIRM, MODEL_REVERT makes the slot that
 * was active before it active again (with the anti-rollback counter it had then), as long as
 * that slot still holds its package. A new MODEL_BEGIN overwrites it and ends the trial. */
#include <string.h>

#include "tm_agent_internal.h"
#include "tm_cycle_mark.h"
#include "tm_attest.h"
#include "tm_flash_image.h"
#include "tm_sha512.h"
#include "tm_signed_package.h"

/* The package's own bytes in a slot of size bytes: without a well-formed signature block
 * when there is one (no cryptography: the block was checked at commit, or the board is not
 * provisioned and ignores it); *version receives the block's version (0: none). */
static uint32_t package_bytes(const uint8_t *d, uint32_t size, uint32_t *version)
{
    tm_signed_info_t info;
    *version = 0;
    if (tm_signed_package_parse(d, size, &info) != TM_SIGNED_OK)
        return size;
    *version = info.package_version;
    return info.package_size;
}

static void hex_id(char *out, const uint8_t id[TM_SIGNED_KEY_ID_BYTES])
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < TM_SIGNED_KEY_ID_BYTES; ++i) {
        out[2u * i] = hex[id[i] >> 4];
        out[2u * i + 1u] = hex[id[i] & 0xFu];
    }
    out[2u * TM_SIGNED_KEY_ID_BYTES] = '\0';
}

static int slot_verifies(const tm_agent_t *a, uint8_t s)
{
    const tm_port_t *p = a->port;
    if (!a->slots.slot[s].valid || a->slots.slot[s].size == 0 ||
        a->slots.slot[s].size > p->slot_size || p->slot_data == NULL)
        return 0;
    const uint8_t *d = p->slot_data(p->ctx, s);
    return d && tm_crc32(0, d, a->slots.slot[s].size) == a->slots.slot[s].crc;
}

/* Load the active slot's package into the interpreter (boot, commit). A slot whose bytes
 * are not a valid package stays committed (the slots are format-agnostic storage) but
 * cannot run: model_status says why. */
static void load_active(tm_agent_t *a)
{
    const tm_port_t *p = a->port;
    memset(&a->model, 0, sizeof a->model);
    a->model_status = TM_MODEL_ERR_NOT_LOADED;
    if (!tm_model_loaded(a) || p->slot_data == NULL)
        return;
    const uint8_t *d = p->slot_data(p->ctx, a->slots.active);
    uint32_t version = 0;
    tm_model_status_t s =
        tm_model_load(&a->model, d, package_bytes(d, a->slots.slot[a->slots.active].size, &version));
    if (s == TM_MODEL_OK) {
        uint32_t in_bytes = 0;
        tm_model_input(&a->model, p->arena, &in_bytes);
        if (p->arena == NULL || tm_model_arena_bytes(&a->model) > p->arena_size ||
            in_bytes > sizeof a->input) {
            memset(&a->model, 0, sizeof a->model);
            s = TM_MODEL_ERR_ARENA;
        }
    }
    a->model_status = (uint8_t)s;
    tm_classify_load_impulse(a);
    tm_telemetry_reset(a); /* the summaries belong to one package */
}

int tm_model_ready(const tm_agent_t *a)
{
    return tm_model_loaded(a) && a->model_status == TM_MODEL_OK;
}

void tm_model_init(tm_agent_t *a)
{
    const tm_port_t *p = a->port;
    memset(&a->slots, 0, sizeof a->slots);
    a->slots.active = TM_SLOT_NONE;
    memset(&a->model, 0, sizeof a->model);
    a->model_status = TM_MODEL_ERR_NOT_LOADED;
    tm_telemetry_reset(a);
    memset(&a->security, 0, sizeof a->security);
    uint8_t record[TM_PROVISION_RECORD_BYTES];
    if (p->provision_load && p->provision_load(p->ctx, record) &&
        tm_provision_record_decode(record, a->security.public_key) == TM_OK) {
        a->security.provisioned = 1;
        tm_signed_key_id(a->security.public_key, a->security.key_id);
    }
    uint8_t identity[TM_IDENTITY_RECORD_BYTES];
    if (p->identity_load && p->identity_load(p->ctx, identity) &&
        tm_identity_record_decode(identity, a->security.identity_seed,
                                  a->security.identity_public_key) == TM_OK) {
        a->security.has_identity = 1;
        tm_signed_key_id(a->security.identity_public_key, a->security.identity_id);
    }
    memset(identity, 0, sizeof identity);
    tm_classify_load_impulse(a);
    if (p->slot_load == NULL || !p->slot_load(p->ctx, &a->slots)) {
        memset(&a->slots, 0, sizeof a->slots);
        a->slots.active = TM_SLOT_NONE;
        return;
    }
    /* trust nothing persisted: a slot counts only if its bytes still match its CRC, and an
     * id only if it is one (profile% prints it) */
    for (uint8_t s = 0; s < TM_MODEL_SLOTS; ++s) {
        if (!slot_verifies(a, s))
            a->slots.slot[s].valid = 0;
        char *id = a->slots.slot[s].benchmark_id;
        id[TM_BENCHMARK_ID_MAX] = '\0';
        for (size_t i = 0; id[i]; ++i) {
            if (!tm_benchmark_id_char_ok((uint8_t)id[i])) {
                id[0] = '\0';
                break;
            }
        }
    }
    if (a->slots.trial > TM_TRIAL_FIRST)
        a->slots.trial = TM_TRIAL_NONE;
    if (a->slots.active >= TM_MODEL_SLOTS || !a->slots.slot[a->slots.active].valid) {
        a->slots.trial = TM_TRIAL_NONE; /* the slot on trial is gone: nothing to go back from */
        a->slots.active = TM_SLOT_NONE;
        for (uint8_t s = 0; s < TM_MODEL_SLOTS; ++s)
            if (a->slots.slot[s].valid)
                a->slots.active = s;
    }
    load_active(a);
}

int tm_model_loaded(const tm_agent_t *a)
{
    return a->slots.active < TM_MODEL_SLOTS && a->slots.slot[a->slots.active].valid;
}

void tm_model_abort_upload(tm_agent_t *a)
{
    a->upload.active = 0;
}

int tm_model_uploading(const tm_agent_t *a)
{
    return a->upload.active;
}

static tm_error_t model_begin(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const tm_port_t *p = a->port;
    TM_REQUIRE(r->req->payload_len == 8, TM_ERR_BAD_LENGTH);
    if (a->stream.active) {
        r->msg = "stop the stream before uploading a model";
        return TM_ERR_BUSY;
    }
    if (a->cls.active) {
        r->msg = "stop the classification before uploading a model";
        return TM_ERR_BUSY;
    }
    uint32_t size = tm_get_u32(r->req->payload);
    uint32_t crc = tm_get_u32(r->req->payload + 4);
    TM_REQUIRE(size > 0, TM_ERR_BAD_ARGUMENT);
    TM_REQUIRE(size <= p->slot_size && p->slot_write != NULL, TM_ERR_MODEL_TOO_LARGE);
    /* a new BEGIN abandons an unfinished upload; it never touches the active slot */
    uint8_t slot = a->slots.active == 0 ? 1u : 0u;
    a->slots.slot[slot].valid = 0;
    if (a->slots.trial == TM_TRIAL_ON) {
        /* the slot a revert would return to is about to be overwritten: the trial ends, also
         * across a reset (a board reset mid-upload must not offer a half-written slot) */
        a->slots.trial = TM_TRIAL_OVERWRITTEN;
        if (p->slot_persist && p->slot_persist(p->ctx, &a->slots, TM_SLOT_NONE) != TM_OK)
            tm_agent_send_log(a, "ending the trial was not persisted: the slot CRC check guards it");
    }
    a->upload.active = 1;
    a->upload.slot = slot;
    a->upload.size = size;
    a->upload.crc = crc;
    a->upload.received = 0;
    a->reply[0] = slot;
    r->reply_len = 1;
    return TM_OK;
}

static tm_error_t model_chunk(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const tm_port_t *p = a->port;
    TM_REQUIRE(r->req->payload_len >= 4, TM_ERR_BAD_LENGTH);
    if (!a->upload.active) {
        r->msg = "no upload begun";
        return TM_ERR_UPLOAD_SEQUENCE;
    }
    uint32_t offset = tm_get_u32(r->req->payload);
    uint32_t n = r->req->payload_len - 4u;
    if (offset != a->upload.received) {
        char *m = a->err_msg;
        strcpy(m, "chunk offset is not the next expected byte ");
        tm_agent_format_u32(m + strlen(m), a->upload.received);
        r->msg = m;
        return TM_ERR_UPLOAD_SEQUENCE;
    }
    if (n > a->upload.size - a->upload.received) {
        r->msg = "chunk runs past the package size given to MODEL_BEGIN";
        return TM_ERR_BAD_ARGUMENT;
    }
    if (n) {
        tm_error_t e = p->slot_write(p->ctx, a->upload.slot, offset, r->req->payload + 4, n);
        if (e) {
            a->upload.active = 0;
            return e;
        }
    }
    a->upload.received += n;
    tm_put_u32(a->reply, a->upload.received);
    r->reply_len = 4;
    return TM_OK;
}

/* MODEL_COMMIT on a provisioned board: the uploaded bytes must be a package signed with the
 * provisioned key, of a version >= the anti-rollback counter. Equal is accepted: re-flashing
 * the release a board already runs (after a torn upload, or to another slot) is normal, and
 * replaying the same signed bytes gains an attacker nothing. On success *min_version is the
 * package's version (the counter only rises, since version >= counter). */
static tm_error_t check_signed(tm_request_t *r, const uint8_t *d, uint32_t size,
                               uint32_t *min_version)
{
    tm_agent_t *a = r->agent;
    const tm_port_t *p = a->port;
    char *m = a->err_msg;
    tm_signed_info_t info;
    const uint64_t t0 = p->now(p->ctx);
    const tm_signed_status_t st = tm_signed_package_verify(d, size, a->security.public_key, &info);
    a->security.check_ticks = (uint32_t)(p->now(p->ctx) - t0);
    switch (st) {
    case TM_SIGNED_OK:
        break;
    case TM_SIGNED_UNSIGNED:
        r->msg = "the board is provisioned: it takes signed packages only (tinyml sign)";
        return TM_ERR_UNSIGNED;
    case TM_SIGNED_MALFORMED:
        /* no "TMSG" block at the end: an unsigned file (or one cut or padded); a block that is
         * there but does not fit its package: a malformed signed package */
        if (size < TM_SIGNED_BLOCK_BYTES ||
            tm_get_u32(d + size - TM_SIGNED_BLOCK_BYTES) != TM_SIGNED_BLOCK_MAGIC) {
            r->msg = "no signature block at the end of the upload: the board takes signed "
                     "packages only";
            return TM_ERR_UNSIGNED;
        }
        r->msg = "signature block malformed: sizes, version, flags or reserved bytes wrong";
        return TM_ERR_SIGNED_MALFORMED;
    case TM_SIGNED_WRONG_KEY:
        strcpy(m, "package signed by key ");
        hex_id(m + strlen(m), info.key_id);
        strcat(m, ", the board trusts key ");
        hex_id(m + strlen(m), a->security.key_id);
        r->msg = m;
        return TM_ERR_WRONG_KEY;
    case TM_SIGNED_BAD_SIGNATURE:
        r->msg = "signature does not match the package: a byte was modified";
        return TM_ERR_BAD_SIGNATURE;
    default:
        r->msg = tm_signed_status_name(st);
        return TM_ERR_INTERNAL;
    }
    if (info.package_version < a->slots.min_version) {
        strcpy(m, "package version ");
        tm_agent_format_u32(m + strlen(m), info.package_version);
        strcat(m, " is older than the board's ");
        tm_agent_format_u32(m + strlen(m), a->slots.min_version);
        strcat(m, " (anti-rollback)");
        r->msg = m;
        return TM_ERR_ROLLBACK;
    }
    *min_version = info.package_version;
    return TM_OK;
}

/* The device identity from a PROVISION seed, once: an identity already there is kept (a
 * second provisioning must not change what the host recorded; the reply names the key in
 * force). */
static tm_error_t provision_identity(tm_request_t *r, const uint8_t *seed)
{
    tm_agent_t *a = r->agent;
    const tm_port_t *p = a->port;
    if (a->security.has_identity)
        return TM_OK;
    uint8_t public_key[TM_ED25519_PUBLIC_KEY_BYTES];
    uint8_t record[TM_IDENTITY_RECORD_BYTES];
    tm_ed25519_public_key(public_key, seed);
    tm_identity_record_encode(seed, public_key, record);
    tm_error_t e = p->identity_persist(p->ctx, record);
    memset(record, 0, sizeof record);
    if (e != TM_OK) {
        r->msg = "storing the device identity failed: the board has none";
        return e == TM_ERR_NOT_SUPPORTED ? e : TM_ERR_INTERNAL;
    }
    memcpy(a->security.identity_seed, seed, TM_IDENTITY_SEED_BYTES);
    memcpy(a->security.identity_public_key, public_key, TM_ED25519_PUBLIC_KEY_BYTES);
    tm_signed_key_id(public_key, a->security.identity_id);
    a->security.has_identity = 1;
    return TM_OK;
}

/* PROVISION: the board's public key, once. The same key again is a no-op (a retried request
 * or a second `tinyml provision` must not fail); another key is refused. With 64 bytes the
 * second half is the device identity's secret seed (written once, see provision_identity);
 * the reply then carries the identity's public key after the key id. */
static tm_error_t provision(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const tm_port_t *p = a->port;
    const size_t len = r->req->payload_len;
    TM_REQUIRE(len == TM_PROVISION_KEY_BYTES || len == TM_PROVISION_KEY_BYTES + TM_IDENTITY_SEED_BYTES,
               TM_ERR_BAD_LENGTH);
    const uint8_t *key = r->req->payload;
    const uint8_t *seed = len > TM_PROVISION_KEY_BYTES ? key + TM_PROVISION_KEY_BYTES : NULL;
    if (p->provision_persist == NULL) {
        r->msg = "this board cannot store a key (no persistent storage for it)";
        return TM_ERR_NOT_SUPPORTED;
    }
    if (seed && p->identity_persist == NULL) {
        r->msg = "this board cannot store a device identity (no storage for it)";
        return TM_ERR_NOT_SUPPORTED;
    }
    if (seed) {
        uint8_t any = 0;
        for (unsigned i = 0; i < TM_IDENTITY_SEED_BYTES; ++i)
            any |= seed[i];
        if (!any) {
            r->msg = "device identity seed is all zeros (not a random secret)";
            return TM_ERR_BAD_ARGUMENT;
        }
    }
    if (a->security.provisioned) {
        if (memcmp(key, a->security.public_key, TM_PROVISION_KEY_BYTES) != 0) {
            char *m = a->err_msg;
            strcpy(m, "the board is locked to key ");
            hex_id(m + strlen(m), a->security.key_id);
            r->msg = m;
            return TM_ERR_ALREADY_PROVISIONED;
        }
    } else {
        /* a key that is no curve point (or of small order) would refuse every package
         * forever: S = 0 passes the range check, so the key is decoded next */
        static const uint8_t zero_signature[TM_ED25519_SIGNATURE_BYTES];
        if (tm_ed25519_verify(zero_signature, key, NULL, 0) == TM_ED25519_BAD_PUBLIC_KEY) {
            r->msg = "not an Ed25519 public key (no curve point of large order)";
            return TM_ERR_BAD_ARGUMENT;
        }
        uint8_t record[TM_PROVISION_RECORD_BYTES];
        tm_provision_record_encode(key, record);
        tm_error_t e = p->provision_persist(p->ctx, record);
        if (e != TM_OK) {
            r->msg = "storing the key failed: the board is not provisioned";
            return e == TM_ERR_NOT_SUPPORTED ? e : TM_ERR_INTERNAL;
        }
        memcpy(a->security.public_key, key, TM_PROVISION_KEY_BYTES);
        tm_signed_key_id(key, a->security.key_id);
        a->security.provisioned = 1;
    }
    memcpy(a->reply, a->security.key_id, TM_SIGNED_KEY_ID_BYTES);
    r->reply_len = TM_SIGNED_KEY_ID_BYTES;
    if (seed) {
        tm_error_t e = provision_identity(r, seed);
        if (e != TM_OK)
            return e;
        memcpy(a->reply + TM_SIGNED_KEY_ID_BYTES, a->security.identity_public_key,
               TM_ED25519_PUBLIC_KEY_BYTES);
        r->reply_len += TM_ED25519_PUBLIC_KEY_BYTES;
    }
    return TM_OK;
}

/* ATTEST: the statement of tm_attest.h over the host's nonce, signed with the identity. The
 * firmware is measured once per boot (it cannot change while it runs); the active package is
 * hashed at every request (it may have changed since the last one). */
static tm_error_t attest(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const tm_port_t *p = a->port;
    TM_REQUIRE(r->req->payload_len == TM_ATTEST_NONCE_BYTES, TM_ERR_BAD_LENGTH);
    if (p->identity_load == NULL || p->identity_persist == NULL) {
        r->msg = "this board cannot keep a device identity: no attestation";
        return TM_ERR_NOT_SUPPORTED;
    }
    if (!a->security.has_identity) {
        r->msg = "the board has no device identity: provision it first (tinyml provision)";
        return TM_ERR_NOT_PROVISIONED;
    }
    if (a->security.firmware_hash_state == 0) {
        a->security.firmware_hash_state =
            p->firmware_hash && p->firmware_hash(p->ctx, a->security.firmware_hash) ? 1u : 2u;
        if (a->security.firmware_hash_state != 1u)
            memset(a->security.firmware_hash, 0, sizeof a->security.firmware_hash);
    }
    tm_attest_t st;
    memset(&st, 0, sizeof st);
    memcpy(st.nonce, r->req->payload, TM_ATTEST_NONCE_BYTES);
    memcpy(st.device_public_key, a->security.identity_public_key, TM_ED25519_PUBLIC_KEY_BYTES);
    memcpy(st.device_id, a->security.identity_id, TM_ATTEST_ID_BYTES);
    if (a->security.firmware_hash_state == 1u) {
        memcpy(st.firmware_hash, a->security.firmware_hash, 64);
        st.flags |= TM_ATTEST_FLAG_FIRMWARE_HASH;
    }
    st.active_slot = TM_SLOT_NONE;
    if (tm_model_loaded(a) && p->slot_data) {
        const uint8_t s = a->slots.active;
        const uint8_t *d = p->slot_data(p->ctx, s);
        st.active_slot = s;
        st.package_size = a->slots.slot[s].size;
        tm_sha512(d, st.package_size, st.package_hash);
        package_bytes(d, st.package_size, &st.package_version);
        st.flags |= TM_ATTEST_FLAG_PACKAGE;
    }
    st.counter = a->slots.min_version;
    if (a->security.provisioned) {
        memcpy(st.project_key_id, a->security.key_id, TM_ATTEST_ID_BYTES);
        st.flags |= TM_ATTEST_FLAG_PROVISIONED;
    }
    st.frames_dropped = a->dec.crc_errors + a->dec.cobs_errors + a->dec.short_frames + a->dec.overflows;
    st.error_replies = a->error_replies;
    st.uptime_ticks = p->now(p->ctx);
    tm_attest_encode(&st, a->reply);
    if (tm_ed25519_sign(a->reply + TM_ATTEST_STATEMENT_BYTES, a->reply, TM_ATTEST_STATEMENT_BYTES,
                        a->security.identity_seed, a->security.identity_public_key) != TM_ED25519_OK)
        return TM_ERR_INTERNAL;
    r->reply_len = TM_ATTEST_REPLY_BYTES;
    return TM_OK;
}

void tm_model_security_info(const tm_agent_t *a, uint8_t out[TM_INFO_SECURITY_BYTES])
{
    const tm_port_t *p = a->port;
    memset(out, 0, TM_INFO_SECURITY_BYTES);
    out[0] = a->security.provisioned;
    if (a->security.provisioned)
        memcpy(out + 1, a->security.key_id, TM_SIGNED_KEY_ID_BYTES);
    tm_put_u32(out + 9, a->slots.min_version);
    uint32_t version = 0;
    if (tm_model_loaded(a) && p->slot_data)
        package_bytes(p->slot_data(p->ctx, a->slots.active), a->slots.slot[a->slots.active].size,
                      &version);
    tm_put_u32(out + 13, version);
    tm_put_u32(out + 17, a->security.check_ticks);
}

static tm_error_t model_commit(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const tm_port_t *p = a->port;
    /* optional payload: the MLPerf Tiny benchmark id of the package (older hosts send none) */
    const size_t id_len = r->req->payload_len;
    TM_REQUIRE(id_len <= TM_BENCHMARK_ID_MAX, TM_ERR_BAD_LENGTH);
    for (size_t i = 0; i < id_len; ++i) {
        if (!tm_benchmark_id_char_ok(r->req->payload[i])) {
            r->msg = "benchmark id: only A-Z a-z 0-9 . _ - allowed";
            return TM_ERR_BAD_ARGUMENT;
        }
    }
    if (!a->upload.active) {
        r->msg = "no upload begun";
        return TM_ERR_UPLOAD_SEQUENCE;
    }
    if (a->upload.received != a->upload.size) {
        r->msg = "upload incomplete";
        return TM_ERR_UPLOAD_SEQUENCE;
    }
    const uint8_t slot = a->upload.slot;
    a->upload.active = 0;
    const uint8_t *d = p->slot_data ? p->slot_data(p->ctx, slot) : NULL;
    TM_REQUIRE(d != NULL, TM_ERR_INTERNAL);
    if (tm_crc32(0, d, a->upload.size) != a->upload.crc)
        return TM_ERR_MODEL_CRC;
    uint32_t min_version = a->slots.min_version;
    if (a->security.provisioned) {
        tm_error_t e = check_signed(r, d, a->upload.size, &min_version);
        if (e)
            return e;
    }
    /* the new slot goes on trial: the model active until now stays in the other slot */
    a->slots.trial = tm_model_loaded(a) ? (uint8_t)TM_TRIAL_ON : (uint8_t)TM_TRIAL_FIRST;
    a->slots.trial_min_version = a->slots.min_version;
    a->slots.min_version = min_version;
    a->slots.slot[slot].valid = 1;
    a->slots.slot[slot].size = a->upload.size;
    a->slots.slot[slot].crc = a->upload.crc;
    if (id_len)
        memcpy(a->slots.slot[slot].benchmark_id, r->req->payload, id_len);
    a->slots.slot[slot].benchmark_id[id_len] = '\0';
    a->slots.active = slot;
    load_active(a);
    if (p->slot_persist && p->slot_persist(p->ctx, &a->slots, slot) != TM_OK)
        tm_agent_send_log(a, "model committed to RAM only: persisting the slot failed");
    a->reply[0] = slot;
    r->reply_len = 1;
    return TM_OK;
}

static tm_error_t model_info(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    /* payload 0x01 asks for the benchmark id too; agents before the ids answer BAD_LENGTH,
     * which is how a host tells them apart */
    TM_REQUIRE(r->req->payload_len <= 1, TM_ERR_BAD_LENGTH);
    const uint8_t flags = r->req->payload_len == 1 ? r->req->payload[0] : 0u;
    if (r->req->payload_len == 1 &&
        (flags == 0 || (flags & ~(TM_MODEL_INFO_BENCHMARK_ID | TM_MODEL_INFO_TRIAL)) != 0)) {
        r->msg = "MODEL_INFO flags: only 0x01 (with benchmark id) and 0x02 (with trial flag) are "
                 "defined";
        return TM_ERR_BAD_ARGUMENT;
    }
    const int with_id = (flags & TM_MODEL_INFO_BENCHMARK_ID) != 0;
    uint8_t *o = a->reply;
    memset(o, 0, 11);
    o[0] = TM_SLOT_NONE;
    uint8_t id_len = 0;
    if (tm_model_loaded(a)) {
        uint8_t s = a->slots.active;
        o[0] = s;
        o[1] = 1;
        tm_put_u32(o + 2, a->slots.slot[s].size);
        tm_put_u32(o + 6, a->slots.slot[s].crc);
        id_len = (uint8_t)strlen(a->slots.slot[s].benchmark_id);
        memcpy(o + 11, a->slots.slot[s].benchmark_id, id_len);
    }
    o[10] = id_len;
    r->reply_len = with_id ? 11u + id_len : 10u;
    if (flags & TM_MODEL_INFO_TRIAL)
        o[r->reply_len++] = tm_model_loaded(a) && a->slots.trial == TM_TRIAL_ON ? 1u : 0u;
    return TM_OK;
}

/* Why MODEL_REVERT has nothing to revert to, for a trial state other than TM_TRIAL_ON. */
static const char *no_previous_reason(uint8_t trial)
{
    switch (trial) {
    case TM_TRIAL_CONFIRMED:
        return "nothing to revert to: the active model was confirmed (MODEL_CONFIRM)";
    case TM_TRIAL_REVERTED:
        return "nothing to revert to: the active model is the one a revert returned to";
    case TM_TRIAL_OVERWRITTEN:
        return "nothing to revert to: a new upload began overwriting the previous slot";
    case TM_TRIAL_FIRST:
        return "nothing to revert to: no model was active before the current one was committed";
    default:
        return "nothing to revert to: no trial recorded (the active model was committed by an "
               "agent without revert)";
    }
}

/* MODEL_REVERT: back to the slot that was active before the commit on trial, and to the
 * anti-rollback counter of that moment, so the board runs and attests what it ran before.
 * Everything is checked before anything changes, and the new table is persisted before the
 * reply: a failure leaves the board as it was. The counter never drops below what it was
 * before the latest commit, so revert cannot reach a package the board had already left. */
static tm_error_t model_revert(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const tm_port_t *p = a->port;
    char *m = a->err_msg;
    TM_REQUIRE(r->req->payload_len == 0, TM_ERR_BAD_LENGTH);
    if (a->stream.active) {
        r->msg = "stop the stream before reverting the model";
        return TM_ERR_BUSY;
    }
    if (a->cls.active) {
        r->msg = "stop the classification before reverting the model";
        return TM_ERR_BUSY;
    }
    if (!tm_model_loaded(a)) {
        r->msg = "nothing to revert to: no model is active (none was committed)";
        return TM_ERR_NO_PREVIOUS_MODEL;
    }
    if (a->slots.trial != TM_TRIAL_ON) {
        r->msg = no_previous_reason(a->slots.trial);
        return TM_ERR_NO_PREVIOUS_MODEL;
    }
    const uint8_t prev = a->slots.active == 0 ? 1u : 0u;
    if (!slot_verifies(a, prev)) {
        r->msg = "nothing to revert to: the previous slot no longer holds its package (CRC-32 "
                 "mismatch)";
        return TM_ERR_NO_PREVIOUS_MODEL;
    }
    if (a->security.provisioned) {
        /* the board takes only what it would commit: signed with its key, and not older than
         * the counter it returns to */
        const uint8_t *d = p->slot_data(p->ctx, prev);
        tm_signed_info_t info;
        const uint64_t t0 = p->now(p->ctx);
        const tm_signed_status_t st =
            tm_signed_package_verify(d, a->slots.slot[prev].size, a->security.public_key, &info);
        a->security.check_ticks = (uint32_t)(p->now(p->ctx) - t0);
        if (st != TM_SIGNED_OK) {
            strcpy(m, "nothing to revert to: the previous package does not verify with the "
                      "provisioned key (");
            strncat(m, tm_signed_status_name(st), 40);
            strcat(m, ")");
            r->msg = m;
            return TM_ERR_NO_PREVIOUS_MODEL;
        }
        if (info.package_version < a->slots.trial_min_version) {
            strcpy(m, "nothing to revert to: the previous package's version ");
            tm_agent_format_u32(m + strlen(m), info.package_version);
            strcat(m, " is below the counter it would return to, ");
            tm_agent_format_u32(m + strlen(m), a->slots.trial_min_version);
            r->msg = m;
            return TM_ERR_NO_PREVIOUS_MODEL;
        }
    }
    tm_slot_table_t t = a->slots;
    t.active = prev;
    t.min_version = a->slots.trial_min_version;
    t.trial = TM_TRIAL_REVERTED;
    t.trial_min_version = 0;
    if (p->slot_persist && p->slot_persist(p->ctx, &t, TM_SLOT_NONE) != TM_OK) {
        r->msg = "persisting the revert failed: the board keeps the model it runs";
        return TM_ERR_INTERNAL;
    }
    a->slots = t;
    load_active(a);
    a->reply[0] = prev;
    r->reply_len = 1;
    return TM_OK;
}

/* MODEL_CONFIRM: the active model stays; the trial ends (no revert from now on). Confirming
 * a model that is not on trial changes nothing. */
static tm_error_t model_confirm(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const tm_port_t *p = a->port;
    TM_REQUIRE(r->req->payload_len == 0, TM_ERR_BAD_LENGTH);
    if (!tm_model_loaded(a)) {
        r->msg = "no model is active: nothing to confirm";
        return TM_ERR_NO_MODEL;
    }
    if (a->slots.trial != TM_TRIAL_ON)
        return TM_OK;
    tm_slot_table_t t = a->slots;
    t.trial = TM_TRIAL_CONFIRMED;
    if (p->slot_persist && p->slot_persist(p->ctx, &t, TM_SLOT_NONE) != TM_OK) {
        r->msg = "persisting the confirmation failed: the model is still on trial";
        return TM_ERR_INTERNAL;
    }
    a->slots = t;
    return TM_OK;
}

tm_error_t tm_model_handle(tm_request_t *r)
{
    switch (r->req->op) {
    case TM_OP_MODEL_BEGIN: return model_begin(r);
    case TM_OP_MODEL_CHUNK: return model_chunk(r);
    case TM_OP_MODEL_COMMIT: return model_commit(r);
    case TM_OP_MODEL_INFO: return model_info(r);
    case TM_OP_PROVISION: return provision(r);
    case TM_OP_ATTEST: return attest(r);
    case TM_OP_MODEL_REVERT: return model_revert(r);
    case TM_OP_MODEL_CONFIRM: return model_confirm(r);
    default: return TM_ERR_INTERNAL;
    }
}

/* ---- input / output / inference ----------------------------------------------------
 *
 * SET_INPUT fills the agent's input buffer (also `db` of the MLPerf commands); every run
 * copies the model's input tensor bytes from it into the arena first, since the arena's
 * input region is reused by later tensors. GET_OUTPUT reads the output tensor in the
 * arena. Without a runnable model both use the fixed buffers, as before. */

const char *tm_model_unready_message(tm_agent_t *a)
{
    if (a->model_status == TM_MODEL_ERR_ARENA)
        return "the model does not fit this agent's tensor arena or input buffer";
    char *m = a->err_msg;
    strcpy(m, "active slot is not a valid model package: ");
    strncat(m, tm_model_status_name((tm_model_status_t)a->model_status), 48);
    return m;
}

tm_error_t tm_model_check_ready(tm_agent_t *a, const char **msg)
{
    if (!tm_model_loaded(a))
        return TM_ERR_NO_MODEL;
    if (a->model_status == TM_MODEL_OK)
        return TM_OK;
    *msg = tm_model_unready_message(a);
    return a->model_status == TM_MODEL_ERR_ARENA ? TM_ERR_MODEL_TOO_LARGE : TM_ERR_NO_MODEL;
}

static int8_t staged_input_at(const void *ctx, uint32_t k)
{
    return ((const int8_t *)ctx)[k];
}

/* INVOKE's window into the INVOKE summary: the top class is the argmax of the raw output
 * (lowest index on ties); uncertain when the package's impulse has a threshold above its
 * dequantized score (no averaging: each INVOKE stands alone). */
static void invoke_telemetry(tm_agent_t *a)
{
    const tm_port_t *p = a->port;
    uint32_t in_bytes = 0, out_bytes = 0;
    tm_model_input(&a->model, p->arena, &in_bytes);
    const int8_t *out = tm_model_output(&a->model, p->arena, &out_bytes);
    if (out == NULL || out_bytes == 0)
        return;
    uint32_t top = 0;
    for (uint32_t c = 1; c < out_bytes; ++c)
        if (out[c] > out[top])
            top = c;
    int uncertain = 0;
    if (a->impulse_status == TM_IMPULSE_OK && top < a->impulse.class_count) {
        float scale;
        int32_t zp;
        tm_model_output_quant(&a->model, &scale, &zp);
        uncertain = (float)((int32_t)out[top] - zp) * scale < a->impulse.thresholds[top];
    }
    tm_telemetry_add(a, TM_TELEMETRY_INVOKE, staged_input_at, a->input, in_bytes, out, out_bytes,
                     top, uncertain);
}

static tm_error_t run_failed(tm_request_t *r)
{
    r->msg = "a kernel refused its arguments";
    return TM_ERR_INTERNAL;
}

static tm_error_t run_with(tm_agent_t *a, tm_model_layer_cb cb, void *user, uint64_t *ticks)
{
    const tm_port_t *p = a->port;
    uint32_t in_bytes = 0;
    int8_t *in = tm_model_input(&a->model, p->arena, &in_bytes);
    if (in == NULL)
        return TM_ERR_INTERNAL;
    memcpy(in, a->input, in_bytes);
    const uint64_t t0 = p->now(p->ctx);
    /* Markers for the virtual board's cycle model (tm_cycle_mark.h): the same interval as
     * the counter, without the counter reads. */
    tm_cycle_mark_invoke_begin();
    tm_model_status_t s = tm_model_invoke(&a->model, p->arena, p->arena_size, cb, user);
    tm_cycle_mark_invoke_end();
    const uint64_t t1 = p->now(p->ctx);
    *ticks = t1 - t0;
    return s == TM_MODEL_OK ? TM_OK : TM_ERR_INTERNAL;
}

tm_error_t tm_model_run(tm_agent_t *a, uint64_t *ticks)
{
    return run_with(a, NULL, NULL, ticks);
}

/* LAYER_PROFILE: per-layer counter deltas, kept as the minimum over the runs directly in
 * the reply buffer (u64 little-endian per layer). The hook reads the counter on entry and
 * again on exit, so a layer's count spans from the end of the previous hook to the start
 * of its own: the hook's own time is not charged to any layer. */
typedef struct {
    const tm_port_t *port;
    uint64_t last;
    uint32_t first;
    uint32_t count;
    uint8_t *out;
    int first_run;
} layer_probe_t;

static uint64_t get_u64(const uint8_t *b)
{
    return (uint64_t)tm_get_u32(b) | ((uint64_t)tm_get_u32(b + 4) << 32);
}

static void put_u64(uint8_t *b, uint64_t v)
{
    tm_put_u32(b, (uint32_t)v);
    tm_put_u32(b + 4, (uint32_t)(v >> 32));
}

static void layer_hook(void *user, uint32_t op_index, uint32_t op_code)
{
    layer_probe_t *lp = (layer_probe_t *)user;
    tm_cycle_mark_layer_end();
    const uint64_t t = lp->port->now(lp->port->ctx);
    (void)op_code;
    if (op_index >= lp->first && op_index - lp->first < lp->count) {
        uint8_t *o = lp->out + 8u * (op_index - lp->first);
        const uint64_t d = t - lp->last;
        if (lp->first_run || d < get_u64(o))
            put_u64(o, d);
    }
    lp->last = lp->port->now(lp->port->ctx);
    tm_cycle_mark_layer_resume();
}

static tm_error_t layer_profile(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const uint8_t *pl = r->req->payload;
    TM_REQUIRE(r->req->payload_len == 6, TM_ERR_BAD_LENGTH);
    const uint32_t runs = tm_get_u32(pl);
    const uint32_t first = tm_get_u16(pl + 4);
    TM_REQUIRE(runs > 0 && runs <= TM_AGENT_BENCH_MAX_RUNS, TM_ERR_BAD_ARGUMENT);
    tm_error_t e = tm_model_check_ready(a, &r->msg);
    if (e)
        return e;
    const uint32_t layers = a->model.op_count;
    if (first > layers || (first == layers && layers > 0)) {
        r->msg = "first layer is past the model's last layer";
        return TM_ERR_BAD_ARGUMENT;
    }
    uint32_t n = layers - first;
    if (n > TM_LAYER_PROFILE_MAX_LAYERS)
        n = TM_LAYER_PROFILE_MAX_LAYERS;
    layer_probe_t lp = {a->port, 0, first, n, a->reply + 6, 1};
    memset(lp.out, 0, 8u * n);
    for (uint32_t i = 0; i < runs; ++i) {
        uint64_t ticks = 0;
        lp.last = a->port->now(a->port->ctx);
        if (run_with(a, layer_hook, &lp, &ticks) != TM_OK)
            return run_failed(r);
        lp.first_run = 0;
    }
    tm_put_u16(a->reply, (uint16_t)layers);
    tm_put_u16(a->reply + 2, (uint16_t)first);
    tm_put_u16(a->reply + 4, (uint16_t)n);
    r->reply_len = 6u + 8u * n;
    return TM_OK;
}

static void sort_u32(uint32_t *v, uint32_t n)
{
    for (uint32_t i = 1; i < n; ++i) {
        const uint32_t x = v[i];
        uint32_t j = i;
        for (; j > 0 && v[j - 1] > x; --j)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

tm_error_t tm_io_handle(tm_request_t *r)
{
    tm_agent_t *a = r->agent;
    const uint8_t *pl = r->req->payload;
    const uint16_t len = r->req->payload_len;
    const int ready = tm_model_ready(a);
    switch (r->req->op) {
    case TM_OP_SET_INPUT: {
        TM_REQUIRE(len >= 4, TM_ERR_BAD_LENGTH);
        uint32_t off = tm_get_u32(pl);
        uint32_t n = len - 4u;
        uint32_t cap = (uint32_t)sizeof a->input;
        if (ready)
            tm_model_input(&a->model, a->port->arena, &cap);
        TM_REQUIRE(off <= cap && n <= cap - off, TM_ERR_BAD_ARGUMENT);
        memcpy(a->input + off, pl + 4, n);
        return TM_OK;
    }
    case TM_OP_GET_OUTPUT: {
        TM_REQUIRE(len == 6, TM_ERR_BAD_LENGTH);
        uint32_t off = tm_get_u32(pl);
        uint32_t n = tm_get_u16(pl + 4);
        uint32_t cap = (uint32_t)sizeof a->output;
        const uint8_t *out = a->output;
        if (ready)
            out = (const uint8_t *)tm_model_output(&a->model, a->port->arena, &cap);
        TM_REQUIRE(n <= TM_MAX_PAYLOAD && off <= cap && n <= cap - off, TM_ERR_BAD_ARGUMENT);
        memcpy(a->reply, out + off, n);
        r->reply_len = n;
        return TM_OK;
    }
    case TM_OP_INVOKE: {
        TM_REQUIRE(len == 0, TM_ERR_BAD_LENGTH);
        tm_error_t e = tm_model_check_ready(a, &r->msg);
        if (e)
            return e;
        uint64_t ticks = 0;
        if (tm_model_run(a, &ticks) != TM_OK)
            return run_failed(r);
        invoke_telemetry(a);
        tm_put_u32(a->reply, (uint32_t)ticks);
        tm_put_u32(a->reply + 4, (uint32_t)(ticks >> 32));
        r->reply_len = 8;
        return TM_OK;
    }
    case TM_OP_LAYER_PROFILE:
        return layer_profile(r);
    case TM_OP_BENCHMARK: {
        TM_REQUIRE(len == 4, TM_ERR_BAD_LENGTH);
        const uint32_t runs = tm_get_u32(pl);
        TM_REQUIRE(runs > 0 && runs <= TM_AGENT_BENCH_MAX_RUNS, TM_ERR_BAD_ARGUMENT);
        tm_error_t e = tm_model_check_ready(a, &r->msg);
        if (e)
            return e;
        for (uint32_t i = 0; i < runs; ++i) {
            uint64_t ticks = 0;
            if (tm_model_run(a, &ticks) != TM_OK)
                return run_failed(r);
            a->bench[i] = ticks > UINT32_MAX ? UINT32_MAX : (uint32_t)ticks;
        }
        sort_u32(a->bench, runs);
        const uint32_t v[3] = {a->bench[0], a->bench[(runs - 1u) / 2u], a->bench[runs - 1u]};
        tm_put_u32(a->reply, runs);
        for (int k = 0; k < 3; ++k) {
            tm_put_u32(a->reply + 4 + 8 * k, v[k]);
            tm_put_u32(a->reply + 8 + 8 * k, 0);
        }
        r->reply_len = 28;
        return TM_OK;
    }
    default:
        return TM_ERR_INTERNAL;
    }
}
