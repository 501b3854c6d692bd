# Writes cnet.pc at install time (cmake -P or install(CODE)), so the paths in
# it follow the prefix actually installed to: `cmake --install --prefix X`
# overrides CMAKE_INSTALL_PREFIX after configuration, and a cnet.pc
# generated at configure time would point at the old prefix.
#
# In: CNET_PC_IN, CNET_PC_OUT, CNET_PC_PREFIX, CNET_PC_LIBDIR_REL,
#     CNET_PC_INCLUDEDIR_REL, PROJECT_VERSION, CNET_PC_REQUIRES_PRIVATE.
foreach(kind LIBDIR INCLUDEDIR)
  set(dir "${CNET_PC_${kind}_REL}")
  if(IS_ABSOLUTE "${dir}")
    set(CNET_PC_${kind} "${dir}")
  else()
    set(CNET_PC_${kind} "\${prefix}/${dir}")
  endif()
endforeach()
configure_file("${CNET_PC_IN}" "${CNET_PC_OUT}" @ONLY)
