# Install rules and Debian packages (issue 18 §3): `cpack -G DEB` in a build
# tree, or scripts/package.sh, makes one package per component:
#   corral-controller  the controller, its unit, /etc/corral/controller.env,
#                      the tokens file made by postinst, the dashboard's files
#   corral-agent       the agent (root: it runs the VMs), its unit and env file
#   corral-balancer    the data plane, its unit and env file
#   corralctl          the CLI
# The files they install come from packaging/ (packaging/README.md); what each
# daemon's package sets up when installed is in packaging/debian/*.in.
include(GNUInstallDirs)

# Debian 12 installs units in /lib/systemd/system (later releases, /usr/lib).
set(CORRAL_SYSTEMD_UNIT_DIR /lib/systemd/system CACHE PATH "Where the packages put the systemd units")
set(CORRAL_SYSUSERS_DIR /usr/lib/sysusers.d CACHE PATH "Where the packages put systemd-sysusers files")
set(CORRAL_PACKAGE_MAINTAINER "Corral maintainers <corral@localhost>" CACHE STRING
    "The Maintainer field of the Debian packages")

set(corral_packaging ${CMAKE_SOURCE_DIR}/packaging)

# corral_daemon_package(COMPONENT USER SECRET [TEMPLATE]): the daemon
# corral-COMPONENT, its unit, its env file, and the maintainer scripts that
# make SECRET (a file private to USER, the daemon's token or tokens; from
# TEMPLATE, installed by the package, when given) and, for a USER other than
# root, the user itself (systemd-sysusers).
function(corral_daemon_package component user secret)
  set(template "${ARGN}")
  set(name corral-${component})
  string(TOUPPER ${component} upper)
  install(TARGETS ${name} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${component})
  install(FILES ${corral_packaging}/systemd/${name}.service DESTINATION ${CORRAL_SYSTEMD_UNIT_DIR}
          COMPONENT ${component})
  install(FILES ${corral_packaging}/etc/${component}.env DESTINATION /etc/corral COMPONENT ${component})
  if(NOT user STREQUAL "root")
    install(FILES ${corral_packaging}/sysusers.conf DESTINATION ${CORRAL_SYSUSERS_DIR}
            RENAME ${name}.conf COMPONENT ${component})
  endif()
  set(CORRAL_PKG_NAME ${name})
  set(CORRAL_PKG_USER ${user})
  set(CORRAL_PKG_SECRET ${secret})
  set(CORRAL_PKG_SECRET_TEMPLATE "${template}")
  # dpkg keeps an edited conffile across upgrades; CPack marks none by itself.
  file(WRITE ${CMAKE_BINARY_DIR}/packaging/${component}/conffiles "/etc/corral/${component}.env\n")
  set(scripts ${CMAKE_BINARY_DIR}/packaging/${component}/conffiles)
  foreach(script postinst prerm postrm)
    configure_file(${corral_packaging}/debian/${script}.in
                   ${CMAKE_BINARY_DIR}/packaging/${component}/${script} @ONLY)
    list(APPEND scripts ${CMAKE_BINARY_DIR}/packaging/${component}/${script})
  endforeach()
  set(CPACK_DEBIAN_${upper}_PACKAGE_NAME ${name} PARENT_SCOPE)
  set(CPACK_DEBIAN_${upper}_PACKAGE_CONTROL_EXTRA "${scripts}" PARENT_SCOPE)
endfunction()

corral_daemon_package(controller corral /etc/corral/tokens /usr/share/corral/tokens.example)
install(FILES ${corral_packaging}/etc/tokens.example DESTINATION ${CMAKE_INSTALL_DATADIR}/corral
        COMPONENT controller)
# The dashboard's files go in the controller's package: it serves them at /ui/
# (--ui-dir; by default the copy compiled into the binary).
if(EXISTS ${CMAKE_SOURCE_DIR}/ui)
  install(DIRECTORY ui/ DESTINATION ${CMAKE_INSTALL_DATADIR}/corral/ui COMPONENT controller)
endif()
corral_daemon_package(agent root /etc/corral/agent.token)
corral_daemon_package(balancer corral /etc/corral/balancer.token)
install(TARGETS corralctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME corral)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL controller agent balancer cli)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # NAME_VERSION-RELEASE_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CORRAL_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
# Depends from the libraries the binaries link (dpkg-shlibdeps, in dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Binaries stripped, as Debian ships them (-g1 line tables stay in the build tree).
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)  # maintainer scripts 0755
set(CPACK_DEBIAN_CLI_PACKAGE_NAME corralctl)
# postinst makes the corral user with systemd-sysusers.
set(CPACK_DEBIAN_CONTROLLER_PACKAGE_DEPENDS "systemd | systemd-standalone-sysusers")
set(CPACK_DEBIAN_BALANCER_PACKAGE_DEPENDS "systemd | systemd-standalone-sysusers")
set(CPACK_DEBIAN_CONTROLLER_PACKAGE_SUGGESTS corralctl)
set(CPACK_DEBIAN_AGENT_PACKAGE_SUGGESTS "libvirt-daemon-system")
set(CPACK_COMPONENT_CONTROLLER_DESCRIPTION
    "Corral controller: the API server and control loops of a Corral cluster\nKeeps the desired state (SQLite, or etcd shared with other controllers) behind a\nKubernetes-style HTTP API and runs the scheduler, fail-over and rebalancing loops.")
set(CPACK_COMPONENT_AGENT_DESCRIPTION
    "Corral agent: runs the VMs a Corral controller binds to this host\nHeartbeats to the controller, runs VMs as processes or libvirt domains and reports\nwhat it measures.")
set(CPACK_COMPONENT_BALANCER_DESCRIPTION
    "Corral balancer: the load-balancing data plane of a Corral cluster\nProxies TCP or HTTP to the endpoints the controller publishes for a Balancer.")
set(CPACK_COMPONENT_CLI_DESCRIPTION
    "corralctl: the command-line client of a Corral cluster\nA kubectl-like CLI: get, apply, describe, drain, logs.")
include(CPack)
