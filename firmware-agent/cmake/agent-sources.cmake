# Sources of the portable agent core, relative to firmware-agent/. Included by the host
# build (firmware-agent/CMakeLists.txt) and the cross build (ports/CMakeLists.txt).
set(TINYML_AGENT_CORE_SOURCES
  src/tm_agent.c
  src/tm_agent_model.c
  src/tm_flash_image.c
  src/tm_mlperf.c
  src/tm_model.c
  src/tm_sensor_sim.c)
