import { describe, expect, it } from 'vitest';
import { apiserverCheck } from '../../cli/apiserver-check.ts';
import { main } from '../../cli/main.ts';
import { parseConfig } from '../../shared/config-text.ts';
import { deploymentSchema } from '../../shared/intake/deployment.ts';
import { apiDeployment } from '../support/deployments.ts';

const deployment = (overrides: Record<string, unknown>) => deploymentSchema.parse(apiDeployment(overrides));

describe('the unconfirmed API server account', () => {
  it.each([
    ['Airflow 3', { airflowVersion: '3.0.2' }, '--airflow-version 3'],
    ['Remote Execution', { airflowVersion: '3.0.2', remoteExecution: { enabled: true } }, '--remote-execution'],
    [
      'version unknown (Airflow 3 set)',
      { airflowVersion: undefined, astroRuntimeVersion: undefined },
      '--airflow-version 3',
    ],
  ])('%s: sync prints one check line with the matching subjects flags', (_name, overrides, flag) => {
    const line = apiserverCheck(parseConfig('{}'), [deployment(overrides)]);
    expect(line).toContain(`subjects --namespace nebular-gravity-1234 ${flag} | diff -`);
    expect(line?.split('\n')).toHaveLength(1);
  });

  it('says nothing for Airflow 2, or once the config names the account (someone checked)', () => {
    expect(apiserverCheck(parseConfig('{}'), [deployment({ airflowVersion: '2.10.3' })])).toBeUndefined();
    const named = parseConfig('components: { serviceAccounts: { apiserver: "{namespace}-api-server" } }');
    expect(apiserverCheck(named, [deployment({ airflowVersion: '3.0.2' })])).toBeUndefined();
  });

  it('subjects --help says the name is unconfirmed and how to override it', async () => {
    let out = '';
    const io = {
      stdout: (c: string) => {
        out += c;
      },
      stderr: (c: string) => {
        out += c;
      },
      readInput: async () => '',
    };
    await main(['subjects', '--help'], io, {});
    expect(out).toContain('<ns>-apiserver-serviceaccount');
    expect(out).toContain('components.serviceAccounts.apiserver');
  });
});
