import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local bound to one address. Its own launcher has no host option
 * (`java -jar DynamoDBLocal.jar -help` lists -port, -inMemory, -dbPath, -sharedDb,
 * -cors, -disableTelemetry...) and its Jetty server listens on every interface, so
 * anyone on the network could read and write the tables. This builds the server
 * exactly as that launcher does, from the same options, and sets the address on
 * its one Jetty connector before it starts.
 *
 * Run with Java's single-file source launcher, by local/dynamodb/server.ts:
 *   java -cp DynamoDBLocal.jar:DynamoDBLocal_lib/* LoopbackDynamoDbLocal.java <host> <DynamoDB Local options...>
 */
public class LoopbackDynamoDbLocal {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) throw new IllegalArgumentException("usage: LoopbackDynamoDbLocal <host> <DynamoDB Local options...>");
        String host = args[0];
        String[] options = java.util.Arrays.copyOfRange(args, 1, args.length);
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(options);
        // The Jetty server is a private field of DynamoDBProxyServer, created with one connector for the port.
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server jetty = (Server) field.get(proxy);
        Connector[] connectors = jetty.getConnectors();
        if (connectors.length != 1 || !(connectors[0] instanceof ServerConnector connector)) {
            throw new IllegalStateException("DynamoDB Local's server does not have the one connector expected: not starting it on every interface");
        }
        connector.setHost(host);
        proxy.start();
        System.out.println("DynamoDB Local listening on " + host + ":" + connector.getLocalPort());
    }
}
