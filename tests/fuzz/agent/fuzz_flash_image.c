/* The flash image a file-backed board reads at boot (firmware-agent/include/tm_flash_image.h):
 * the 64-byte header (slot table, benchmark ids, anti-rollback counter) and the provisioning
 * record after the slots. Input: header bytes, then record bytes (short inputs are padded with
 * zeros). Invariants: every slot a decoded header calls valid fits its slot, ids are allowed
 * characters only, a decoded record encodes back to the same 48 bytes (nothing is accepted that
 * the agent would not have written), and a decoded header's counter survives a round trip.
 * Then the trial record (MODEL_REVERT) read next to that header: one it accepts encodes back
 * to the same 24 bytes, and one encoded for the header decodes to the same trial state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tm_flash_image.h"

#define SLOT_SIZE 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t header[TM_FLASH_HEADER_BYTES] = {0};
    uint8_t record[TM_PROVISION_RECORD_BYTES] = {0};
    const size_t nh = size < sizeof header ? size : sizeof header;
    memcpy(header, data, nh);
    if (size > nh) {
        const size_t nr = size - nh < sizeof record ? size - nh : sizeof record;
        memcpy(record, data + nh, nr);
    }

    tm_slot_table_t t;
    memset(&t, 0xA5, sizeof t);
    if (tm_flash_header_decode(header, SLOT_SIZE, &t) == TM_OK) {
        for (unsigned s = 0; s < TM_MODEL_SLOTS; ++s) {
            if (t.slot[s].valid && t.slot[s].size > SLOT_SIZE)
                abort();
            for (const char *c = t.slot[s].benchmark_id; *c; ++c)
                if (!tm_benchmark_id_char_ok((uint8_t)*c))
                    abort();
            if (strlen(t.slot[s].benchmark_id) > TM_BENCHMARK_ID_MAX)
                abort();
        }
        uint8_t again[TM_FLASH_HEADER_BYTES];
        tm_slot_table_t back;
        tm_flash_header_encode(&t, SLOT_SIZE, again);
        if (tm_flash_header_decode(again, SLOT_SIZE, &back) != TM_OK || back.min_version != t.min_version ||
            back.active != t.active)
            abort();
    }

    uint8_t trial[TM_FLASH_TRIAL_RECORD_BYTES] = {0};
    if (size > nh + sizeof record) {
        const size_t rest = size - nh - sizeof record;
        memcpy(trial, data + nh + sizeof record, rest < sizeof trial ? rest : sizeof trial);
    }
    tm_slot_table_t tt;
    memset(&tt, 0xA5, sizeof tt);
    tm_flash_trial_decode(trial, header, &tt);
    if (tt.trial != TM_TRIAL_NONE || tt.trial_min_version != 0) {
        uint8_t again[TM_FLASH_TRIAL_RECORD_BYTES];
        tm_flash_trial_encode(&tt, header, again);
        if (memcmp(again, trial, sizeof again) != 0)
            abort();
    }
    tt.trial = trial[0];
    tt.trial_min_version = (uint32_t)trial[1] << 8 | trial[2];
    {
        uint8_t enc[TM_FLASH_TRIAL_RECORD_BYTES];
        tm_slot_table_t back;
        tm_flash_trial_encode(&tt, header, enc);
        tm_flash_trial_decode(enc, header, &back);
        if (back.trial != tt.trial || back.trial_min_version != tt.trial_min_version)
            abort();
    }

    uint8_t key[TM_PROVISION_KEY_BYTES];
    if (tm_provision_record_decode(record, key) == TM_OK) {
        uint8_t again[TM_PROVISION_RECORD_BYTES];
        tm_provision_record_encode(key, again);
        if (memcmp(again, record, sizeof again) != 0)
            abort();
    }
    return 0;
}
