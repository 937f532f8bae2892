package org.outlierlab.jobs.sql;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hive.ql.session.SessionState;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.hive.thriftserver.HiveThriftServer2;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.spark.SparkSessions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * bin/oflab sql-server: Spark's thrift (JDBC/ODBC) server, the one a distribution starts with
 * sbin/start-thriftserver.sh, on this job's Spark with the warehouse's views defined. It runs in single-session
 * mode, so every connection shares the session that holds the views. With sql.auth = password only the users of
 * sql.password_file log in (Hive's custom password provider, {@link PasswordFileAuthenticator}); beyond loopback a
 * server without authentication needs sql.allow_anonymous = true.
 */
public final class SqlServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SqlServer.class);

  private final SparkSession spark;
  private final HiveThriftServer2 server;
  private final SqlServerResult served;

  private SqlServer(SparkSession spark, HiveThriftServer2 server, SqlServerResult served) {
    this.spark = spark;
    this.server = server;
    this.served = served;
  }

  /** Serves until the process is stopped (Ctrl-C or a signal), then stops the server; what it served. */
  public static SqlServerResult serve(SqlServerSettings settings) throws Exception {
    SqlServer server = start(settings);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "oflab-sql-server-stop"));
    stopped.await();
    return server.served;
  }

  /** Starts the server; {@link #close()} stops it and its Spark. */
  static SqlServer start(SqlServerSettings settings) throws IOException {
    String host = settings.host();
    int port = settings.port();
    Configuration hadoop = SparkSessions.hadoopConf(settings.spark());
    WarehouseViews views = WarehouseViews.scan(settings.warehouse(), SqlJob.WAREHOUSE, hadoop)
        .requireTables(SqlJob.WAREHOUSE);
    checkFree(host, port);
    String who = checkAccess(settings);
    views.tryWrite(hadoop);
    Map<String, String> defaults = new HashMap<>(SqlScratch.create().sparkDefaults());
    defaults.put("spark.sql.hive.thriftServer.singleSession", "true");
    defaults.put("spark.hadoop.hive.server2.thrift.bind.host", host);
    defaults.put("spark.hadoop.hive.server2.thrift.port", Integer.toString(port));
    if (settings.auth() == SqlServerSettings.Auth.PASSWORD) {
      defaults.put("spark.hadoop.hive.server2.authentication", "CUSTOM");
      // Hive's provider reads a fresh HiveConf, which takes its settings from system properties
      System.setProperty("hive.server2.custom.authentication.class", PasswordFileAuthenticator.class.getName());
      System.setProperty(PasswordFileAuthenticator.FILE_PROPERTY, settings.passwordFile().toAbsolutePath().toString());
    } else {
      defaults.put("spark.hadoop.hive.server2.authentication", "NONE");
    }
    SparkSession spark = SparkSessions.open(settings.spark(), "sql-server", defaults);
    HiveThriftServer2 server;
    try {
      views.register(spark);
      // Spark's Hive client reuses a Hive session state this thread already has, and with it an earlier server's
      // port and authentication; detached, the server reads this one's
      SessionState.detachSession();
      server = HiveThriftServer2.startWithContext(spark.sqlContext());
      awaitListening(host, port);
    } catch (RuntimeException e) {
      spark.stop();
      throw e;
    }
    String url = "jdbc:hive2://" + clientHost(host) + ":" + port + "/default";
    LOG.info("sql-server: views {} at {} (beeline -u {}), {}; stop with Ctrl-C", views.views(), url, url, who);
    return new SqlServer(spark, server, new SqlServerResult(url, views.views()));
  }

  /** The JDBC URL clients connect to. */
  String url() {
    return served.url();
  }

  @Override
  public void close() {
    server.stop();
    spark.stop();
  }

  /** Returns once the server accepts connections: Hive binds its port on a thread of its own, after start returns. */
  private static void awaitListening(String host, int port) {
    InetAddress address = new InetSocketAddress(host, port).getAddress(); // resolvable: checkFree said so
    InetSocketAddress target = new InetSocketAddress(
        address.isAnyLocalAddress() ? InetAddress.getLoopbackAddress() : address, port);
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try (Socket socket = new Socket()) {
        socket.connect(target, 1000);
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("sql-server: the thrift server did not start listening on " + host + ":"
              + port + " within 60 s; see the log above", e);
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for the thrift server", interrupted);
        }
      }
    }
  }

  /** Fails, naming the key, when the address cannot be listened on; before any Spark work starts. */
  static void checkFree(String host, int port) {
    InetSocketAddress address = new InetSocketAddress(host, port);
    if (address.isUnresolved()) {
      throw new ConfigError("sql.host = '" + host + "' is not a known address; allowed: localhost, 0.0.0.0 (every"
          + " interface), or this machine's name or address");
    }
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(address);
    } catch (BindException e) {
      if (String.valueOf(e.getMessage()).contains("in use")) {
        throw new ConfigError("sql.port = " + port + " is in use on " + host + " (another sql-server or thrift"
            + " server?); allowed: a free port, e.g. --sql.port " + (port < 65535 ? port + 1 : 10000));
      }
      throw new ConfigError("sql.host = '" + host + "' cannot be listened on (" + e.getMessage() + "); allowed:"
          + " localhost, 0.0.0.0 (every interface), or one of this machine's addresses");
    } catch (IOException e) {
      throw new ConfigError("sql.port = " + port + " on " + host + " cannot be listened on: " + e.getMessage());
    }
  }

  /**
   * Who may connect, in words; fails before Spark starts when a server beyond loopback would have no authentication
   * unless sql.allow_anonymous says so, or when the users' file is missing or malformed.
   */
  static String checkAccess(SqlServerSettings s) throws IOException {
    boolean loopback = InetAddress.getByName(s.host()).isLoopbackAddress();
    if (s.auth() == SqlServerSettings.Auth.PASSWORD) {
      var users = PasswordFile.read(s.passwordFile(), "sql.password_file").users();
      return "users " + String.join(", ", users) + " of " + s.passwordFile() + " with their passwords"
          + (loopback ? "" : " (sent unencrypted: keep the network private, or add Hive's TLS settings as"
              + " spark.hadoop.hive.server2.use.SSL and its keystore keys)");
    }
    if (loopback) {
      return "anyone on this machine";
    }
    if (!s.allowAnonymous()) {
      throw new ConfigError("sql.host = '" + s.host() + "' listens beyond this machine and sql.auth = none would let"
          + " anyone who reaches it read every table; allowed: sql.auth = password (users added with bin/oflab"
          + " sql-user NAME), or sql.allow_anonymous = true to serve without authentication on purpose");
    }
    LOG.warn("sql-server: serving every table of {} without authentication to anyone who reaches {}:{}"
        + " (sql.allow_anonymous = true)", s.warehouse(), s.host(), s.port());
    return "anyone who reaches it (sql.allow_anonymous = true)";
  }

  private static String clientHost(String host) throws IOException {
    return InetAddress.getByName(host).isAnyLocalAddress() ? InetAddress.getLocalHost().getHostName() : host;
  }
}
