# Fails when a source file includes something its layer must not see.
function(check_layer glob_dir forbidden_regex why)
  file(GLOB_RECURSE files ${ROOT}/${glob_dir}/*.cpp ${ROOT}/${glob_dir}/*.hpp)
  foreach(f ${files})
    file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include")
    foreach(line ${lines})
      if(line MATCHES "${forbidden_regex}")
        message(SEND_ERROR "${f}: '${line}' (${why})")
      endif()
    endforeach()
  endforeach()
endfunction()

check_layer(mcu/core "(gst/|glib|boost/|nlohmann|signaling/|media/|sqlite|openssl)"
  "mcu/core is the pure conference model")
check_layer(signaling "(gst/|glib|\"media/)" "signaling/ must not include media/")
check_layer(media "(boost/|nlohmann|\"signaling/)" "media/ must not include signaling/")
message(STATUS "layering ok")
