/* thumb_classify — runs the cycle model's decoder (tm_thumb_timing.h) over instructions
 * listed by test_cycles.py from `arm-none-eabi-objdump -d`: one instruction per input line,
 * "<address hex> <halfword hex> [<halfword hex>]", one output line per instruction,
 * "<address hex> <size> <class>". Exit status 2 on a malformed line. */
#include <stdio.h>
#include <stdlib.h>

#include "tm_thumb_timing.h"

int main(void)
{
    char line[256];
    unsigned long lineno = 0;
    while (fgets(line, sizeof line, stdin)) {
        ++lineno;
        unsigned long addr = 0;
        unsigned hw1 = 0, hw2 = 0;
        const int n = sscanf(line, "%lx %x %x", &addr, &hw1, &hw2);
        if (n < 2 || hw1 > 0xFFFFu || hw2 > 0xFFFFu) {
            fprintf(stderr, "thumb_classify: stdin line %lu: expected '<address> <halfword> "
                            "[<halfword>]' in hex, got '%s'\n", lineno, line);
            return 2;
        }
        const uint8_t bytes[4] = {(uint8_t)hw1, (uint8_t)(hw1 >> 8), (uint8_t)hw2,
                                  (uint8_t)(hw2 >> 8)};
        tm_insn_t in;
        const size_t size = tm_thumb_decode(bytes, n == 3 ? 4u : 2u, &in);
        printf("%lx %u %s\n", addr, (unsigned)size,
               size ? tm_iclass_name((tm_iclass_t)in.iclass) : "truncated");
    }
    return 0;
}
