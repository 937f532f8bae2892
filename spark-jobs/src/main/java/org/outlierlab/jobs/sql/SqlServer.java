package org.outlierlab.jobs.sql;

import com.typesafe.config.Config;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.hive.thriftserver.HiveThriftServer2;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.spark.SparkSessions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * bin/oflab sql-server: Spark's thrift (JDBC/ODBC) server, the one a distribution starts with
 * sbin/start-thriftserver.sh, on this job's Spark with the warehouse's views defined. It runs in single-session
 * mode, so every connection shares the session that holds the views; it has no authentication.
 */
public final class SqlServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SqlServer.class);

  private final SparkSession spark;
  private final HiveThriftServer2 server;
  private final String url;

  private SqlServer(SparkSession spark, HiveThriftServer2 server, String url) {
    this.spark = spark;
    this.server = server;
    this.url = url;
  }

  /** Serves until the process is stopped (Ctrl-C or a signal). */
  public static void run(Config config) throws Exception {
    SqlServer server = start(config);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "oflab-sql-server-stop"));
    new CountDownLatch(1).await();
  }

  /** Starts the server; {@link #close()} stops it and its Spark. */
  static SqlServer start(Config config) throws IOException {
    ConfigReader c = new ConfigReader(config);
    int port = c.intBetween("sql.port", 1, 65535);
    String host = c.string("sql.host");
    Configuration hadoop = SparkSessions.hadoopConf(config);
    WarehouseViews views = WarehouseViews.scan(c.string(SqlJob.WAREHOUSE), SqlJob.WAREHOUSE, hadoop)
        .requireTables(SqlJob.WAREHOUSE);
    checkFree(host, port);
    views.tryWrite(hadoop);
    Map<String, String> defaults = new HashMap<>(SqlScratch.create().sparkDefaults());
    defaults.put("spark.sql.hive.thriftServer.singleSession", "true");
    defaults.put("spark.hadoop.hive.server2.thrift.bind.host", host);
    defaults.put("spark.hadoop.hive.server2.thrift.port", Integer.toString(port));
    SparkSession spark = SparkSessions.create(config, "sql-server", defaults);
    HiveThriftServer2 server;
    try {
      views.register(spark);
      server = HiveThriftServer2.startWithContext(spark.sqlContext());
    } catch (RuntimeException e) {
      spark.stop();
      throw e;
    }
    String url = "jdbc:hive2://" + clientHost(host) + ":" + port + "/default";
    LOG.info("sql-server: views {} at {} (beeline -u {}); stop with Ctrl-C", views.views(), url, url);
    return new SqlServer(spark, server, url);
  }

  /** The JDBC URL clients connect to. */
  String url() {
    return url;
  }

  @Override
  public void close() {
    server.stop();
    spark.stop();
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

  private static String clientHost(String host) throws IOException {
    return InetAddress.getByName(host).isAnyLocalAddress() ? InetAddress.getLocalHost().getHostName() : host;
  }
}
