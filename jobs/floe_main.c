/* floe_main.c - the floe executable. Everything lives in the library so that
 * tests can drive the same code; main only hands over the streams. */
#include "jobs/floe_cli.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    return floe_cli_main(argc, argv, stdout, stderr);
}
