/* lzf: see lzf.h. */
#include "util/lzf.h"

#include <string.h>

size_t lzf_decompress(const void *in, size_t in_len, void *out, size_t out_len)
{
    const unsigned char *ip = in, *iend = ip + in_len;
    unsigned char *op = out, *oend = op + out_len, *ostart = op;

    while (ip < iend) {
        size_t ctrl = *ip++;
        if (ctrl < 32) {                        /* literal run */
            size_t n = ctrl + 1;
            if ((size_t)(iend - ip) < n || (size_t)(oend - op) < n)
                return 0;
            memcpy(op, ip, n);
            op += n;
            ip += n;
            continue;
        }
        size_t len = ctrl >> 5;                 /* back reference */
        if (len == 7) {
            if (ip >= iend)
                return 0;
            len += *ip++;
        }
        if (ip >= iend)
            return 0;
        size_t back = ((ctrl & 31) << 8) + *ip++ + 1;
        len += 2;
        if ((size_t)(op - ostart) < back || (size_t)(oend - op) < len)
            return 0;
        const unsigned char *ref = op - back;
        while (len--)                           /* may overlap: byte by byte */
            *op++ = *ref++;
    }
    return (size_t)(op - ostart);
}
