# package.cmake: the Debian package, built by CPack's DEB generator from the
# rules of install.cmake:   cpack --config BUILD/CPackConfig.cmake -G DEB
# (scripts/package-check does, then installs, upgrades and removes it).

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME orderflow)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "orderflow maintainers <dev@orderflow>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "event-driven order processing on RabbitMQ and MariaDB")
# The extended description; CPack puts the summary above it and indents it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "orderflowd supervises one process per domain (order, inventory, payment,
shipping, notification, webhook, audit), the outbox relay and the HTTP
intake; orderflowctl migrates the database and inspects queues, orders and
parking lots. The broker and the database may run on other hosts.")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Absolute destinations (/etc) land in the package, not on the build host.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
# Depends: from the shared libraries the programs link (dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "rabbitmq-server, mariadb-server | default-mysql-server")
# conffiles: /etc/orderflow/orderflow.conf, which dpkg then never overwrites
# once edited (CPack marks nothing under /etc by itself). The maintainer
# scripts make the user and set the config's group (packaging/deb/).
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/../packaging/deb/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/../packaging/deb/postinst
    ${CMAKE_CURRENT_LIST_DIR}/../packaging/deb/prerm
    ${CMAKE_CURRENT_LIST_DIR}/../packaging/deb/postrm)

include(CPack)
