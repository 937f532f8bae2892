package org.outlierlab.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** ND4J's property warnings, quiet in a process whose log configuration is Spark's (an executor's). */
class Nd4jBackendTest {
  @AfterEach
  void restore() {
    Configurator.setLevel(Nd4jBackend.PROPERTY_WARNINGS, Level.ERROR); // as log4j2.properties sets it
  }

  @Test
  void quietsTheWarningsUnderAnotherConfiguration() {
    Configurator.setLevel(Nd4jBackend.PROPERTY_WARNINGS, Level.INFO); // Spark's default configuration: info
    Nd4jBackend.quietPropertyWarnings();
    assertEquals(Level.ERROR, LogManager.getLogger(Nd4jBackend.PROPERTY_WARNINGS).getLevel());
  }

  @Test
  void leavesAQuieterLevelAlone() {
    Configurator.setLevel(Nd4jBackend.PROPERTY_WARNINGS, Level.OFF);
    Nd4jBackend.quietPropertyWarnings();
    assertEquals(Level.OFF, LogManager.getLogger(Nd4jBackend.PROPERTY_WARNINGS).getLevel());
  }
}
