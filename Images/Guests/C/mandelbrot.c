/*
 * The Mandelbrot set in double precision with SSE2 scalar arithmetic (-msse2 -mfpmath=sse): an
 * ASCII picture, the iteration count of every point and a hash of the final z of each row. The
 * iteration z = z^2 + c is x' = x*x - y*y + cx, y' = 2*x*y + cy, in that order, with no FMA.
 */
#include "runtime.h"

#ifndef WIDTH
#define WIDTH 64
#endif
#ifndef HEIGHT
#define HEIGHT 24
#endif
#ifndef MAX_ITERATIONS
#define MAX_ITERATIONS 200
#endif
#ifndef REPEAT
#define REPEAT 1
#endif

static uint64_t mix(uint64_t hash, double value)
{
    uint64_t bits;
    __builtin_memcpy(&bits, &value, 8);
    return (hash ^ bits) * 0x100000001b3ull;
}

int main(void)
{
    put_string("mandelbrot ");
    put_unsigned(WIDTH);
    put_char('x');
    put_unsigned(HEIGHT);
    put_string(" max ");
    put_unsigned(MAX_ITERATIONS);
    put_char('\n');
    uint64_t total = 0, hash = 0xcbf29ce484222325ull;
    for (int r = 0; r < REPEAT; r++) {
        total = 0;
        hash = 0xcbf29ce484222325ull;
        for (int row = 0; row < HEIGHT; row++) {
            char line[WIDTH + 2];
            double cy = -1.2 + 2.4 * row / (HEIGHT - 1);
            for (int column = 0; column < WIDTH; column++) {
                double cx = -2.1 + 2.7 * column / (WIDTH - 1);
                double x = 0, y = 0;
                int n = 0;
                while (n < MAX_ITERATIONS && x * x + y * y <= 4.0) {
                    double t = x * x - y * y + cx;
                    y = 2.0 * x * y + cy;
                    x = t;
                    n++;
                }
                total += (uint64_t)n;
                hash = mix(mix(hash, x), y);
                line[column] = n == MAX_ITERATIONS ? '#' : " .:-=+*%@"[n % 9];
            }
            line[WIDTH] = '\n';
            line[WIDTH + 1] = 0;
            if (r == REPEAT - 1) put_string(line);
        }
    }
    put_line_unsigned("iterations ", total);
    put_line_hex("hash ", hash, 16);
    return 0;
}
