# Read by cpack itself (CPACK_PROJECT_CONFIG_FILE) for each generator, so values holding
# quotes and backslashes (NSIS script lines) need no escaping through CPackConfig.cmake.
if(CPACK_GENERATOR STREQUAL "NSIS")
  # The file association: *.tinyml opens in the workbench. QEMU is a separate download.
  set(CPACK_NSIS_EXTRA_INSTALL_COMMANDS [=[
  WriteRegStr HKCR ".tinyml" "" "TinyMLWorkbench.Project"
  WriteRegStr HKCR "TinyMLWorkbench.Project" "" "TinyML Workbench project"
  WriteRegStr HKCR "TinyMLWorkbench.Project\DefaultIcon" "" "$INSTDIR\bin\tinyml-workbench.exe,0"
  WriteRegStr HKCR "TinyMLWorkbench.Project\shell\open\command" "" '"$INSTDIR\bin\tinyml-workbench.exe" "%1"'
  SearchPath $0 "qemu-system-arm.exe"
  StrCmp $0 "" 0 +2
    MessageBox MB_OK "Virtual boards need QEMU: install it from https://www.qemu.org/download/#windows (or in MSYS2: pacman -S mingw-w64-x86_64-qemu) and add its folder to PATH."
]=])
  set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS [=[
  DeleteRegKey HKCR ".tinyml"
  DeleteRegKey HKCR "TinyMLWorkbench.Project"
]=])
endif()
