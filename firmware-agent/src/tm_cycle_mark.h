/*
 * tm_cycle_mark.h — marker calls for the cycle model of the virtual boards.
 *
 * Each marker is an empty function that is never inlined. On a virtual board the QEMU
 * plugin firmware-agent/qemu-plugin (libtinyml_cycles.so) recognises the functions by their
 * symbol names when they are entered and appends one line per call to its side channel: the
 * cumulative estimated cycles and instructions at that point. On real hardware a marker costs
 * a call and a return (a few cycles) and does nothing else.
 *
 *     tm_cycle_mark_invoke_begin();
 *     tm_model_invoke(...);          // layer_hook: tm_cycle_mark_layer_end() on entry,
 *     tm_cycle_mark_invoke_end();    //             tm_cycle_mark_layer_resume() on exit
 *
 * The names are an interface with the plugin (qemu-plugin/README.md): never rename them.
 */
#ifndef TM_CYCLE_MARK_H
#define TM_CYCLE_MARK_H

#ifdef __cplusplus
extern "C" {
#endif

/** Entering tm_model_invoke (INVOKE, BENCHMARK, LAYER_PROFILE and MLPerf runs). */
void tm_cycle_mark_invoke_begin(void);
/** tm_model_invoke returned. */
void tm_cycle_mark_invoke_end(void);
/** A layer finished: first thing of the per-layer hook. */
void tm_cycle_mark_layer_end(void);
/** The per-layer hook is done: the next layer starts. */
void tm_cycle_mark_layer_resume(void);

#ifdef __cplusplus
}
#endif

#endif
