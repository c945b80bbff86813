# Sources of the portable agent core, relative to firmware-agent/. Included by the host
# build (firmware-agent/CMakeLists.txt) and the cross build (ports/CMakeLists.txt).
set(TINYML_AGENT_CORE_SOURCES
  src/tm_agent.c
  src/tm_agent_classify.c
  src/tm_agent_telemetry.c
  src/tm_agent_model.c
  src/tm_agent_source.c
  src/tm_cycle_mark.c
  src/tm_flash_image.c
  src/tm_mlperf.c
  src/tm_sensor_sim.c)
# The package reader/interpreter (tm_model), its own library: the agent core and the impulse
# (impulse/, tm_impulse_*) both use it.
set(TINYML_MODEL_RT_SOURCES
  src/tm_model.c)
