<?php
// Seeds a fresh FreeScout for the bridge's tests with FreeScout's own models (there is no API for
// mailboxes or custom fields). Run from the FreeScout root:
//
//   php seed.php mailboxes ADMIN_EMAIL NAME:EMAIL [NAME:EMAIL ...]
//       creates each mailbox (admin attached) with a single-line custom field `github_issue_url`
//   php seed.php attach USER_ID
//       gives that user access to every mailbox
//
// Prints one JSON object: the API key and webhook secret as the settings page shows them, and the
// mailboxes with their field ids.

require getcwd().'/vendor/autoload.php';
$app = require getcwd().'/bootstrap/app.php';
$app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap();

use App\Mailbox;
use App\User;
use Modules\CustomFields\Entities\CustomField;

$command = $argv[1] ?? '';
$out = [
    'api_key' => \ApiWebhooks::getApiKey(),
    'webhook_secret' => \Modules\ApiWebhooks\Entities\Webhook::getSecretKey(),
    'mailboxes' => [],
];

if ($command === 'mailboxes') {
    $admin = User::where('email', $argv[2])->firstOrFail();
    foreach (array_slice($argv, 3) as $spec) {
        [$name, $email] = explode(':', $spec, 2);
        $mailbox = new Mailbox();
        $mailbox->fill(['name' => $name, 'email' => $email]);
        $mailbox->save();
        $mailbox->users()->sync([$admin->id]);
        $mailbox->syncPersonalFolders([$admin->id]);

        $field = new CustomField();
        $field->mailbox_id = $mailbox->id;
        $field->name = 'github_issue_url';
        $field->type = CustomField::TYPE_SINGLE_LINE;
        $field->sort_order = 1;
        $field->save();

        $out['mailboxes'][] = ['id' => $mailbox->id, 'name' => $name, 'email' => $email, 'field_id' => $field->id];
    }
} elseif ($command === 'attach') {
    $user = User::findOrFail((int) $argv[2]);
    foreach (Mailbox::all() as $mailbox) {
        $mailbox->users()->syncWithoutDetaching([$user->id]);
        $mailbox->syncPersonalFolders($mailbox->users()->pluck('users.id')->all());
    }
} else {
    fwrite(STDERR, "usage: php seed.php mailboxes ADMIN_EMAIL NAME:EMAIL... | attach USER_ID\n");
    exit(2);
}

echo json_encode($out), "\n";
